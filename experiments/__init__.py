"""Experiments on Spaceship-v0: what ``play.py`` runs.

- :mod:`experiments.config`: a run's settings (``TrainConfig``), the learners' tuned defaults.
- :mod:`experiments.envs`: the training env, and the observations a policy sees.
- :mod:`experiments.run`: a training run: folder, lock, learn, save on any exit, resume.
- :mod:`experiments.callbacks`: progress bar and periodic evaluation.
- :mod:`experiments.plots`: the learning curve.
- :mod:`experiments.evaluate`: clear rate and return over unseen seeds.
- :mod:`experiments.watch`: the agent with its π(a|s) live, in a window or a video.
- :mod:`experiments.keyboard`: a person plays.
- :mod:`experiments.zoo`: rl-baselines3-zoo hyperparameter files (``train --hyperparams``, a search's ``best.yml``).
- :mod:`experiments.search`, :mod:`experiments.space`: ``tune``, a search on Ray Tune, and its spaces.
- :mod:`experiments.study`, :mod:`experiments.stats`: ``study``, seeds and learners on Ray; IQM and intervals.
- :mod:`experiments.cluster`: a local Ray or a cluster; run folders back to the launching machine.
- :mod:`experiments.cli`: the command line; :mod:`experiments.scale_cli`: ``tune`` and ``study``'s options.
"""
