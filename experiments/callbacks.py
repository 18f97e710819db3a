"""Callbacks of a training run: a progress bar that shows the game, periodic evaluation, and held-out play."""

from __future__ import annotations

import pathlib
import warnings
from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback, EvalCallback
from tqdm import tqdm

from experiments.config import TrainConfig, UsageError
from experiments.envs import make_train_env
from experiments.evaluate import play_greedy
from spaceship_env.evaluation import Results
from spaceship_env.params import make_params

#: Episodes the progress bar averages over.
RECENT = 100


class ProgressBar(BaseCallback):
    """A tqdm bar over ``total`` steps, showing the recent mean return and clear rate.

    :meth:`close` is safe to call twice; the run calls it in a ``finally``, so the bar
    closes even when ``learn()`` raises.
    """

    def __init__(self, total: int) -> None:
        super().__init__()
        self.total = total
        self.bar: tqdm | None = None
        self.returns: deque[float] = deque(maxlen=RECENT)
        self.cleared: deque[bool] = deque(maxlen=RECENT)

    def _on_training_start(self) -> None:
        self.bar = tqdm(total=self.total, unit="step", unit_scale=True, dynamic_ncols=True)

    def _on_step(self) -> bool:
        for info in self.locals["infos"]:
            if "episode" in info:
                self.returns.append(info["episode"]["r"])
                self.cleared.append(info.get("end_reason") == "cleared")
        self.bar.update(min(self.training_env.num_envs, self.total - self.bar.n))  # the last rollout overshoots
        if self.n_calls % 50 == 0 and self.returns:
            self.bar.set_postfix_str(f"return {np.mean(self.returns):5.1f}  cleared {np.mean(self.cleared):4.0%}")
        return True

    def _on_training_end(self) -> None:
        self.close()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def eval_episodes(config: TrainConfig) -> int:
    """Episodes per periodic evaluation: the config's, or 4 to 32, growing with the budget."""
    return config.eval_episodes or int(np.clip(config.timesteps // 100_000, 4, 32))


class Evaluation(EvalCallback):
    """SB3's ``EvalCallback``, quiet about its env differing from the training env.

    They differ on purpose: the training env scales the rewards for learning, the
    evaluation env plays the game's own.
    """

    def _init_callback(self) -> None:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Training and eval env are not of the same type")
            super()._init_callback()


def evaluation(
    config: TrainConfig, run_dir: pathlib.Path, every: int, resume: bool, after: BaseCallback | None = None
) -> EvalCallback:
    """Periodic greedy evaluation that keeps ``best_model.zip``; a resumed run keeps its history.

    ``after`` is called after each evaluation, once ``evaluations.npz`` is written.
    """
    episodes = eval_episodes(config)
    callback = Evaluation(
        make_train_env(config.obs, min(8, episodes), config.seed + 10_000, config.game_kwargs()),
        callback_after_eval=after,
        n_eval_episodes=episodes,
        eval_freq=every,
        best_model_save_path=str(run_dir),
        log_path=str(run_dir),
        verbose=0,  # the progress bar shows the return; evaluations.npz keeps the rest
    )
    history = run_dir / "evaluations.npz"
    if resume and history.exists():
        try:
            with np.load(history) as past:
                callback.evaluations_timesteps = list(past["timesteps"])
                callback.evaluations_results = [list(r) for r in past["results"]]
                callback.evaluations_length = [list(n) for n in past["ep_lengths"]]
        except (OSError, ValueError, KeyError, EOFError) as e:
            raise UsageError(f"{history} is damaged ({type(e).__name__}): move it away to resume without it") from e
        if callback.evaluations_results:
            callback.best_mean_reward = float(np.mean(callback.evaluations_results, axis=1).max())
    return callback


class HeldOutPlay(BaseCallback):
    """Greedy play on a fixed set of seeds, handed to ``report(model, results)`` each time it is called.

    Given to :func:`evaluation` as ``after``, it plays after each periodic evaluation: a
    search scores every trial on the same seeds, which no training run uses. ``report``
    returning False stops the training (a search's time budget is spent).
    """

    def __init__(
        self, config: TrainConfig, episodes: int, seed: int, report: Callable[[Any, Results], bool | None]
    ) -> None:
        super().__init__()
        self.obs = config.obs
        self.params = make_params(**config.game_kwargs())
        self.episodes = episodes
        self.seed = seed
        self.report = report

    def _on_step(self) -> bool:
        """Report; training stops when ``report`` returns False."""
        results = play_greedy(self.model, self.obs, self.episodes, self.seed, self.params)
        return self.report(self.model, results) is not False
