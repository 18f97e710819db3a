"""Aggregate figures over runs, as rliable computes them: mean, IQM and stratified-bootstrap intervals.

Agarwal et al., "Deep Reinforcement Learning at the Edge of the Statistical Precipice",
NeurIPS 2021 (https://arxiv.org/abs/2108.13264), and its library rliable: the
interquartile mean (IQM) is the mean of the middle 50% of all run scores, and a 95%
interval comes from a percentile bootstrap that resamples runs with replacement within
each task (stratified; a study on Spaceship-v0 has one task). rliable 1.2.0 computes the
bootstrap with ``arch``, which does not import beside pandas 3; the same resampling and
percentiles are done here with ``scipy.stats.bootstrap``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

#: rliable's default number of bootstrap resamples.
RESAMPLES = 50_000
CONFIDENCE = 0.95


def mean(scores: np.ndarray, axis: int | None = None) -> np.ndarray:
    """The mean over runs and tasks (rliable's ``aggregate_mean`` for equal runs per task)."""
    return np.mean(scores, axis=axis)


def iqm(scores: np.ndarray, axis: int | None = None) -> np.ndarray:
    """The interquartile mean: ``scipy.stats.trim_mean(scores, 0.25)``, as rliable's ``aggregate_iqm``.

    With ``axis=None`` it runs over every score of every run and task. n scores lose
    ``int(0.25 n)`` from each end: 4 scores keep the middle 2, 5 keep the middle 3.
    """
    from scipy.stats import trim_mean

    return trim_mean(scores, 0.25, axis=axis)


def interval(
    scores: np.ndarray,
    aggregate: Callable[..., np.ndarray],
    resamples: int = RESAMPLES,
    confidence: float = CONFIDENCE,
    seed: int = 0,
) -> tuple[float, float]:
    """The percentile-bootstrap interval of ``aggregate`` over a ``(runs,)`` or ``(runs, tasks)`` array of scores.

    Each task's runs are resampled on their own (rliable's ``StratifiedBootstrap``); one
    run gives the interval ``(x, x)``, as there is nothing to resample.
    """
    from scipy.stats import bootstrap

    scores = np.asarray(scores, float)
    columns = scores.reshape(len(scores), -1).T  # one sample per task
    if columns.shape[1] < 2:
        value = float(aggregate(scores, axis=None))
        return value, value

    def statistic(*tasks: np.ndarray, axis: int = -1) -> np.ndarray:
        return aggregate(np.concatenate(tasks, axis=axis), axis=axis)

    result = bootstrap(
        tuple(columns),
        statistic,
        n_resamples=resamples,
        confidence_level=confidence,
        method="percentile",
        vectorized=True,
        rng=np.random.default_rng(seed),
    )
    return float(result.confidence_interval.low), float(result.confidence_interval.high)
