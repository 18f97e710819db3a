"""The command line of ``play.py``: parse, then hand over to the module that does the work.

Every ``train`` option comes from a field of :class:`~experiments.config.TrainConfig`
(its default and help), and the learner's options from its tuned defaults.
"""

from __future__ import annotations

import argparse
import inspect
import pathlib
import sys
import time
from typing import Any

from experiments.config import (
    GAME_FIELDS,
    LEARNER_OPTIONS,
    TrainConfig,
    UsageError,
    algo_class,
    config_options,
    count,
    default_hyperparams,
)
from experiments.evaluate import EVAL_SEED

#: What ``python play.py`` with no arguments trains, before it shows an episode.
MAIN_JOB = ["train"]
PRETRAINED = pathlib.Path(__file__).resolve().parents[1] / "models" / "ppo2_spaceship.zip"
RUNS = pathlib.Path("runs")

USAGE = """\
Train, watch and play Spaceship-v0: the project's front door.

    python play.py                      train PPO2 with the defaults, then show one episode
    python play.py train [options]      train and write a run folder (see train --help)
    python play.py watch [--model P]    watch an agent, with its action probabilities live
    python play.py play                 play yourself: hold an arrow to move, space to fire
    python play.py evaluate [--model P] clear rate and return over 1000 unseen seeds, beside random play
    python play.py tune [options]       hyperparameter search on Ray (pip install -e '.[scale]')
    python play.py study [options]      learners side by side over many seeds, on Ray

Without a screen, `watch` writes a video and prints its path.
"""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2: no usage dump
        raise UsageError(message)


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _add_game_options(parser: argparse.ArgumentParser) -> None:
    for name, default, help, extras in config_options():
        if name in GAME_FIELDS:
            parser.add_argument(_flag(name), default=default, help=f"{help} (default {default})", **extras)


def build_parser() -> Parser:
    parser = Parser(description=USAGE, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", parser_class=Parser)

    t = sub.add_parser("train", help="train an agent into a run folder")
    for name, default, help, extras in config_options():  # SUPPRESS: only what is given is in args
        t.add_argument(_flag(name), default=argparse.SUPPRESS, help=f"{help} (default {default})", **extras)
    for name, kind in LEARNER_OPTIONS.items():
        t.add_argument(_flag(name), type=kind, default=argparse.SUPPRESS, help="the learner's (default: tuned)")
    t.add_argument("--net-arch", type=count(1), nargs="+", metavar="UNITS", default=argparse.SUPPRESS,
                   help="hidden layers, e.g. 256 256")  # fmt: skip
    t.add_argument("--hyperparams", dest="hyperparams_file", type=pathlib.Path, metavar="FILE",
                   help="rl-baselines3-zoo YAML keyed by Spaceship-v0, as tune writes; options win")  # fmt: skip
    t.add_argument("--run-dir", type=pathlib.Path, help="output folder (default runs/ALGO-OBS-TIME)")
    t.add_argument("--resume", type=pathlib.Path, metavar="RUN_DIR", help="continue a run from its newest save")

    w = sub.add_parser("watch", help="watch an agent play, with its action probabilities")
    w.add_argument("--model", type=pathlib.Path, default=PRETRAINED, help="model zip (default: the shipped one)")
    w.add_argument("--episodes", type=count(1), default=1)
    w.add_argument("--record", type=pathlib.Path, help="write an MP4 or GIF instead of opening a window")
    w.add_argument("--deterministic", action="store_true", help="take the most probable action")
    w.add_argument("--seed", type=count(0), default=0)
    _add_game_options(w)

    p = sub.add_parser(
        "play",
        help="play with the keyboard",
        description="Hold LEFT or RIGHT to move, SPACE to fire. The game waits while no key is held.",
    )
    _add_game_options(p)

    e = sub.add_parser("evaluate", help="clear rate and return over unseen seeds, beside the random policy")
    e.add_argument("--model", type=pathlib.Path, default=PRETRAINED, help="model zip (default: the shipped one)")
    e.add_argument("--episodes", type=count(1), default=1000)
    e.add_argument("--seed", type=count(0), default=EVAL_SEED, help=f"first seed (default {EVAL_SEED:,})")
    _add_game_options(e)

    from experiments.scale_cli import add_commands

    add_commands(sub)
    return parser


def train_config(args: argparse.Namespace) -> TrainConfig:
    """A new run's config from ``train``'s options; the learner's options go into ``hyperparams``.

    Each setting comes from, last one winning: the tuned defaults, the ``--hyperparams`` file, the options.
    """
    given = vars(args)
    config = TrainConfig(**{name: given[name] for name, *_ in config_options() if name in given})
    accepted = inspect.signature(algo_class(config.algo)).parameters
    hyperparams = default_hyperparams(config.algo, config.obs)
    if given.get("hyperparams_file") is not None:
        hyperparams.update(_read_hyperparams_file(args.hyperparams_file, config, given))
    for name in LEARNER_OPTIONS:
        if name in given:
            if name not in accepted:
                raise UsageError(f"{_flag(name)} does not apply to --algo {config.algo}")
            hyperparams[name] = given[name]
    if "net_arch" in given:  # beside the features extractor, if the observations have one
        hyperparams["policy_kwargs"] = {**hyperparams.get("policy_kwargs", {}), "net_arch": given["net_arch"]}
    config.hyperparams = hyperparams
    return config


def _read_hyperparams_file(path: pathlib.Path, config: TrainConfig, given: dict[str, Any]) -> dict[str, Any]:
    """The file's learner arguments; its n_envs and n_timesteps go into ``config`` unless given as options."""
    from experiments import zoo

    settings = zoo.read(path, config.algo, config.obs)
    if settings.n_envs is not None and "n_envs" not in given:
        config.n_envs = settings.n_envs
    if settings.timesteps is not None and "timesteps" not in given:
        config.timesteps = settings.timesteps
    if settings.reward_scale is not None and "reward_scale" not in given:
        config.reward_scale = settings.reward_scale
    return settings.hyperparams


def train_command(args: argparse.Namespace) -> pathlib.Path:
    from experiments.run import train

    if args.resume is not None:
        kept = {k for k, v in vars(args).items() if v is not None} - {"command", "resume", "timesteps"}
        if kept:
            option = _flag(sorted(kept)[0])
            raise UsageError(f"{option} cannot be combined with --resume: the run keeps its own settings")
        config = TrainConfig.load(args.resume / "config.json")
        config.timesteps = getattr(args, "timesteps", config.timesteps)
        train(config, args.resume, resume=True)
        return args.resume
    config = train_config(args)
    run_dir = args.run_dir or RUNS / f"{config.algo}-{config.obs}-{time.strftime('%Y%m%d-%H%M%S')}"
    train(config, run_dir)
    return run_dir


def game_args(args: argparse.Namespace) -> dict[str, Any]:
    return {name: getattr(args, name) for name in GAME_FIELDS}


def default_video(model: pathlib.Path) -> pathlib.Path:
    """Where watch records without a screen: the model's run folder, or runs/ for the shipped one."""
    return RUNS / "watch-pretrained.mp4" if model.resolve() == PRETRAINED else model.parent / "watch.mp4"


def main(argv: list[str] | None = None) -> int:
    from experiments.evaluate import evaluate
    from experiments.keyboard import play_human
    from experiments.watch import watch

    args = build_parser().parse_args(argv)
    if args.command is None:  # the main job: train with the defaults, then show an episode
        run_dir = train_command(build_parser().parse_args(MAIN_JOB))
        model = run_dir / "model.zip"
        watch(model, 1, None, deterministic=True, seed=0, default_video=default_video(model))
    elif args.command == "train":
        train_command(args)
    elif args.command == "watch":
        watch(args.model, args.episodes, args.record, args.deterministic, args.seed, game_args(args),
              default_video(args.model))  # fmt: skip
    elif args.command == "play":
        play_human(game_args(args))
    elif args.command == "evaluate":
        evaluate(args.model, args.episodes, args.seed, game_args(args))
    elif args.command in ("tune", "study"):
        return args.handler(args)
    return 0


def run(argv: list[str] | None = None) -> int:
    """``main`` with every expected failure as one line on stderr and a non-zero exit.

    SIGTERM is Ctrl-C here (``play.py`` sets that first thing): a training saves what it has.
    """
    from agent import ModelLoadError

    try:
        return main(argv)
    except (UsageError, ModelLoadError, ValueError, FileNotFoundError, PermissionError) as e:
        print(f"play.py: error: {e}", file=sys.stderr)
        return 2
    except FloatingPointError as e:  # training diverged; the run has saved what it had
        print(f"play.py: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("play.py: interrupted", file=sys.stderr)
        return 130
