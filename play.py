"""Train, watch and play Spaceship-v0: the project's front door.

    python play.py                      train PPO2 with the defaults, then show one episode
    python play.py train [options]      train and write a run folder (see train --help)
    python play.py watch [--model P]    watch an agent, with its action probabilities live
    python play.py play                 play yourself: arrows move, space fires
    python play.py evaluate [--model P] mean return and clear rate, beside the random policy

Without a screen, `watch` writes a video into the run folder and prints its path.
"""

from __future__ import annotations

import argparse
import csv
import inspect
import json
import math
import os
import pathlib
import signal
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent
PRETRAINED = ROOT / "models" / "ppo2_spaceship.zip"
ALGOS = ("ppo2", "pg", "sb3-ppo")
OBS_TYPES = ("features", "pixels")


class UsageError(Exception):
    """A bad command line or input: printed as one line, exit code 2."""


# --- configuration -----------------------------------------------------------------------
@dataclass
class TrainConfig:
    """Everything a training run depends on; written to the run folder as config.json."""

    algo: str = "ppo2"
    """ppo2 (ours), pg (plain policy gradient) or sb3-ppo (SB3's PPO, for comparison)"""
    obs: str = "features"
    """features (fast) or pixels (CnnPolicy on 84x84 grey frames, stacked 4; slow on a CPU)"""
    timesteps: int = 5_000_000
    """environment steps in all"""
    n_envs: int = 32
    """games stepped together in one SpaceshipVecEnv"""
    seed: int = 0
    """seed of the networks and of game i (seed + i)"""
    hyperparams: dict[str, Any] = field(default_factory=dict)
    """keyword arguments of the algorithm"""


def default_hyperparams(algo: str, obs: str) -> dict[str, Any]:
    """Tuned defaults for Spaceship-v0 (see README for the runs that chose them)."""
    if algo == "pg":
        return {"learning_rate": 1e-3, "n_steps": 512}
    if obs == "pixels":
        return {"n_steps": 128, "batch_size": 256, "n_epochs": 4, "learning_rate": 2.5e-4, "ent_coef": 0.01}
    return {
        "n_steps": 256,
        "batch_size": 2048,
        "n_epochs": 10,
        "learning_rate": 3e-4,
        "ent_coef": 0.01,
        "gamma": 0.99,
        "gae_lambda": 0.95,
    }


# --- environments ------------------------------------------------------------------------
def make_train_env(obs: str, n_envs: int, seed: int, monitor_file: str | None = None, append: bool = False):
    """The batched game, with episode stats; pixels get the usual Atari pre-processing."""
    from stable_baselines3.common.monitor import ResultsWriter
    from stable_baselines3.common.vec_env import VecFrameStack, VecMonitor

    from spaceship_env import SpaceshipVecEnv

    keys = ("end_reason",)
    venv = VecMonitor(SpaceshipVecEnv(n_envs, obs_type=obs), None if append else monitor_file, keys)
    if monitor_file and append:  # a resumed run adds to its episode log instead of starting it afresh
        venv.results_writer = ResultsWriter(monitor_file, extra_keys=keys, override_existing=False)
    venv.seed(seed)
    if obs == "pixels":
        venv = VecFrameStack(GreyResize(venv), n_stack=4)
    return venv


from spaceship_env.wrappers import GreyResize, area_resize  # noqa: E402, F401  (area_resize: tests)


# --- models --------------------------------------------------------------------------------
def algo_class(algo: str):
    from stable_baselines3 import PPO

    from agent import PPO2, PolicyGradient

    return {"ppo2": PPO2, "pg": PolicyGradient, "sb3-ppo": PPO}[algo]


def load_model(path: pathlib.Path) -> tuple[Any, str]:
    """Load any of the project's models, and name the observations it plays from."""
    from agent import PPO2

    model = PPO2.load(path, device="cpu")
    for obs in OBS_TYPES:
        if model.observation_space == policy_space(obs):
            return model, obs
    raise UsageError(
        f"{path} was trained on observations of shape {model.observation_space.shape}, "
        f"but Spaceship-v0 gives {policy_space('features').shape} (features) "
        f"or {policy_space('pixels').shape} (pixels after the usual wrappers)"
    )


def policy_space(obs: str):
    """The observation space a policy trained by ``train --obs obs`` sees."""
    from stable_baselines3.common.vec_env import VecTransposeImage

    from spaceship_env.env import observation_space

    if obs == "features":
        return observation_space("features")
    return VecTransposeImage.transpose_space(make_train_env("pixels", 1, 0).observation_space)


# --- train ---------------------------------------------------------------------------------
def prepare_run_dir(run_dir: pathlib.Path) -> pathlib.Path:
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        probe = run_dir / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as e:
        raise UsageError(f"cannot write to run directory {run_dir}: {e.strerror or e}") from e
    return run_dir


def train(config: TrainConfig, run_dir: pathlib.Path, resume: bool = False):
    """Train into ``run_dir``; on Ctrl-C or an error, save the model and curve first."""
    import torch as th
    from stable_baselines3.common.callbacks import CallbackList, CheckpointCallback

    th.set_num_threads(1)  # small networks: more threads only contend with the game on a busy CPU
    prepare_run_dir(run_dir)
    venv = make_train_env(config.obs, config.n_envs, config.seed, str(run_dir / "episodes"), append=resume)
    model = resume_model(config, run_dir, venv) if resume else new_model(config, run_dir, venv)
    (run_dir / "config.json").write_text(json.dumps(asdict(config), indent=2))
    every = max(config.timesteps // 10 // config.n_envs, model.n_steps)  # ten times a run, at most once a rollout
    callbacks = CallbackList(
        [
            CheckpointCallback(every, str(run_dir / "checkpoints"), name_prefix="model"),
            evaluation_callback(config, run_dir, every, resume),
            TrainingProgress(config.timesteps - model.num_timesteps),
        ]
    )
    # SIGTERM is handled like Ctrl-C, so a killed run also keeps its model.
    signal.signal(signal.SIGTERM, _interrupt)
    interrupted = False
    try:
        model.learn(
            config.timesteps - model.num_timesteps,
            callback=callbacks,
            reset_num_timesteps=not resume,
            tb_log_name=config.algo,
        )
    except KeyboardInterrupt:
        interrupted = True
        print("\ninterrupted: saving what was learned", file=sys.stderr)
    finally:
        if all(th.isfinite(p).all() for p in model.policy.parameters()):
            model.save(run_dir / "model.zip")
        else:  # never write a broken model over a good one; the checkpoints remain
            print("the weights are not finite: model.zip was not written", file=sys.stderr)
        venv.close()
        draw_learning_curve(run_dir)
    print(f"run folder: {run_dir}  (model.zip, best_model.zip, checkpoints/, tb/, episodes.monitor.csv, curve.png)")
    if interrupted:
        raise SystemExit(130)
    return model


def new_model(config: TrainConfig, run_dir: pathlib.Path, venv: Any):
    policy = "CnnPolicy" if config.obs == "pixels" else "MlpPolicy"
    try:
        return algo_class(config.algo)(
            policy, venv, seed=config.seed, tensorboard_log=str(run_dir / "tb"), device="cpu", **config.hyperparams
        )
    except (AssertionError, TypeError) as e:  # SB3 checks some arguments with assert
        raise UsageError(f"bad settings for --algo {config.algo}: {e}") from e


def resume_model(config: TrainConfig, run_dir: pathlib.Path, venv: Any):
    model = algo_class(config.algo).load(latest_checkpoint(run_dir), env=venv, device="cpu")
    if model.num_timesteps >= config.timesteps:
        raise UsageError(
            f"{run_dir} has already trained {model.num_timesteps:,} of its {config.timesteps:,} steps; "
            "pass a larger --timesteps to go on"
        )
    return model


def evaluation_callback(config: TrainConfig, run_dir: pathlib.Path, every: int, resume: bool):
    """Periodic greedy evaluation that keeps ``best_model.zip``; a resumed run keeps its history."""
    from stable_baselines3.common.callbacks import EvalCallback

    evaluation = EvalCallback(
        make_train_env(config.obs, 8, config.seed + 10_000),
        n_eval_episodes=16,
        eval_freq=every,
        best_model_save_path=str(run_dir),
        log_path=str(run_dir),
        verbose=0,  # the progress bar shows the return; evaluations.npz keeps the rest
    )
    history = run_dir / "evaluations.npz"
    if resume and history.exists():
        with np.load(history) as past:
            evaluation.evaluations_timesteps = list(past["timesteps"])
            evaluation.evaluations_results = [list(r) for r in past["results"]]
            evaluation.evaluations_length = [list(n) for n in past["ep_lengths"]]
        evaluation.best_mean_reward = float(np.mean(evaluation.evaluations_results, axis=1).max())
    return evaluation


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def latest_checkpoint(run_dir: pathlib.Path) -> pathlib.Path:
    """The newest save of a run: its last checkpoint, or model.zip if written later (Ctrl-C)."""
    saves = [*(run_dir / "checkpoints").glob("model_*_steps.zip"), run_dir / "model.zip"]
    saves = [p for p in saves if p.is_file()]
    if not saves:
        raise UsageError(f"nothing to resume in {run_dir}: no checkpoints/ and no model.zip")
    return max(saves, key=lambda p: p.stat().st_mtime_ns)


def read_episodes(run_dir: pathlib.Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-episode (timesteps at its end, return, cleared) from the monitor CSV."""
    path = run_dir / "episodes.monitor.csv"
    if not path.exists():
        return np.zeros(0), np.zeros(0), np.zeros(0, bool)
    with path.open() as f:
        next(f)  # the JSON header line
        rows = list(csv.DictReader(f))
    returns = np.array([float(r["r"]) for r in rows])
    lengths = np.array([int(r["l"]) for r in rows])
    cleared = np.array([r.get("end_reason") == "cleared" for r in rows])
    return np.cumsum(lengths), returns, cleared


def draw_learning_curve(run_dir: pathlib.Path) -> pathlib.Path | None:
    """Episode return against timesteps, with the random policy's level as a line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from spaceship_env import WAVE_VALUE
    from spaceship_env.baselines import random_policy
    from spaceship_env.evaluation import play_episodes

    steps, returns, _ = read_episodes(run_dir)
    if len(returns) == 0:
        return None
    rng = np.random.default_rng(0)
    random_level = play_episodes(lambda obs: random_policy(obs, rng), 100).returns.mean()
    window = max(1, min(100, len(returns) // 10))
    smooth = np.convolve(returns, np.ones(window) / window, mode="valid")
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(steps, returns, ".", alpha=0.15, color="tab:blue", markersize=2)
    ax.plot(steps[window - 1 :], smooth, color="tab:blue", label=f"episode return (mean of {window})")
    ax.axhline(random_level, color="tab:red", linestyle="--", label=f"random policy ({random_level:.0f})")
    ax.axhline(WAVE_VALUE, color="grey", linestyle=":", label=f"whole wave ({WAVE_VALUE})")
    ax.set_xlabel("timesteps")
    ax.set_ylabel("episode return R(τ)")
    ax.legend(loc="lower right")
    ax.set_title(run_dir.name)
    fig.tight_layout()
    path = run_dir / "curve.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def TrainingProgress(total: int):
    """A progress bar showing the recent mean return and clear rate."""
    from stable_baselines3.common.callbacks import BaseCallback
    from tqdm import tqdm

    class _Progress(BaseCallback):
        def _on_training_start(self) -> None:
            self.bar = tqdm(total=total, unit="step", unit_scale=True, dynamic_ncols=True)
            self.returns: list[float] = []
            self.cleared: list[bool] = []

        def _on_step(self) -> bool:
            for info in self.locals["infos"]:
                if "episode" in info:
                    self.returns.append(info["episode"]["r"])
                    self.cleared.append(info.get("end_reason") == "cleared")
            self.bar.update(min(self.training_env.num_envs, total - self.bar.n))  # the last rollout overshoots
            if self.n_calls % 50 == 0 and self.returns:
                recent = slice(-100, None)
                self.bar.set_postfix_str(
                    f"return {np.mean(self.returns[recent]):5.1f}  cleared {np.mean(self.cleared[recent]):4.0%}"
                )
            return True

        def _on_training_end(self) -> None:
            self.bar.close()

    return _Progress()


# --- watch, play, evaluate -----------------------------------------------------------------
def has_display() -> bool:
    if os.environ.get("SDL_VIDEODRIVER") in ("dummy", "offscreen"):
        return False
    return sys.platform in ("win32", "darwin") or bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def watch(model_path: pathlib.Path, episodes: int, record: pathlib.Path | None, deterministic: bool, seed: int) -> None:
    """Play episodes with the model, drawing its action probabilities beside the game."""
    import pygame
    import torch as th

    from spaceship_env.core import ACTION_MEANINGS

    model, obs_type = load_model(model_path)
    if record is None and not has_display():
        record = default_video(model_path)
        print("no screen found: recording instead")
    if record is not None:
        _check_video_path(record)
        os.environ["SDL_VIDEODRIVER"] = "dummy"
    try:
        view = ProbabilityView(window=record is None)
    except pygame.error as e:  # a DISPLAY that cannot be opened
        pygame.quit()
        record = default_video(model_path)
        print(f"cannot open a window ({e}): recording instead")
        _check_video_path(record)
        os.environ["SDL_VIDEODRIVER"] = "dummy"
        view = ProbabilityView(window=False)
    video = VideoWriter(record) if record is not None else None
    rng = np.random.default_rng(seed)
    try:
        for episode in range(episodes):
            venv = make_train_env(obs_type, 1, seed + episode)
            game = venv.unwrapped
            obs = venv.reset()
            total, t, done, info = 0.0, 0, False, {}
            while not done:
                obs_tensor, _ = model.policy.obs_to_tensor(obs)
                with th.no_grad():
                    probs = model.policy.get_distribution(obs_tensor).distribution.probs[0].numpy()
                action = int(probs.argmax()) if deterministic else int(rng.choice(len(probs), p=probs / probs.sum()))
                frame = game.get_images()[0]
                obs, rewards, dones, infos = venv.step(np.array([action]))
                total, t, done, info = total + float(rewards[0]), t + 1, bool(dones[0]), infos[0]
                if episode == 0 and t <= 10:
                    print(f"t={t:<3d} action={ACTION_MEANINGS[action]:<5s} reward={rewards[0]:g}")
                picture = view.show(frame, probs, f"episode {episode + 1}   R = {total:g}")
                if video is not None:
                    video.add(picture)
                if view.closed:
                    break
            venv.close()
            if view.closed:
                break
            print(f"episode {episode + 1}: R = {total:g}  ({info.get('end_reason')}, {t} steps)")
    finally:
        view.close()
        if video is not None:
            video.close()
            print(f"video: {record}")


def default_video(model_path: pathlib.Path) -> pathlib.Path:
    """Where watch records without a screen: the model's run folder, or runs/ for the shipped one."""
    if model_path.resolve() == PRETRAINED:
        return ROOT / "runs" / "watch-pretrained.mp4"
    return model_path.parent / "watch.mp4"


class ProbabilityView:
    """The game scaled up, with the policy's probabilities drawn as bars beside it."""

    SCALE, PANEL = 3, 220

    def __init__(self, window: bool) -> None:
        import pygame

        from spaceship_env.core import HEIGHT, WIDTH

        pygame.display.init()  # not pygame.init(): no sound is needed, and no audio device may exist
        pygame.font.init()
        self.pg = pygame
        self.size = (WIDTH * self.SCALE + self.PANEL, HEIGHT * self.SCALE)
        self.screen = pygame.display.set_mode(self.size) if window else pygame.Surface(self.size)
        if window and pygame.display.get_driver() in ("offscreen", "dummy"):  # SDL's silent fallback
            raise pygame.error(f"no usable display (SDL fell back to its {pygame.display.get_driver()} driver)")
        self.window = window
        self.font = pygame.font.Font(None, 28)
        self.clock = pygame.time.Clock()
        self.closed = False

    def show(self, frame: np.ndarray, probs: np.ndarray, title: str) -> np.ndarray:
        from spaceship_env.core import ACTION_MEANINGS

        pg = self.pg
        game = pg.transform.scale(
            pg.surfarray.make_surface(frame.swapaxes(0, 1)), (self.size[0] - self.PANEL, self.size[1])
        )
        self.screen.fill((20, 20, 30))
        self.screen.blit(game, (0, 0))
        x0 = self.size[0] - self.PANEL + 16
        self.screen.blit(self.font.render("policy π(a|s)", True, (230, 230, 230)), (x0, 20))
        for k, (name, p) in enumerate(zip(ACTION_MEANINGS, probs, strict=True)):
            y = 70 + 60 * k
            self.screen.blit(self.font.render(f"{name.lower()} {p:.2f}", True, (230, 230, 230)), (x0, y))
            pg.draw.rect(self.screen, (60, 60, 80), (x0, y + 24, 180, 16))
            pg.draw.rect(self.screen, (90, 200, 255), (x0, y + 24, int(180 * p), 16))
        self.screen.blit(self.font.render(title, True, (230, 230, 230)), (x0, 270))
        if self.window:
            for event in pg.event.get():
                if event.type == pg.QUIT:
                    self.closed = True
            pg.display.flip()
            self.clock.tick(30)
        return pg.surfarray.array3d(self.screen).swapaxes(0, 1)

    def close(self) -> None:
        self.pg.quit()


VIDEO_SUFFIXES = (".mp4", ".gif")


class VideoWriter:
    """Frames to an MP4, streamed through ffmpeg, or to a GIF (every other frame, at 15 fps)."""

    def __init__(self, path: pathlib.Path) -> None:
        import imageio.v2 as imageio

        self.gif = path.suffix.lower() == ".gif"
        if self.gif:
            self.writer = imageio.get_writer(path, mode="I", duration=1000 / 15, loop=0)
        else:
            self.writer = imageio.get_writer(path, fps=30, macro_block_size=1)
        self.count = 0

    def add(self, frame: np.ndarray) -> None:
        if not self.gif or self.count % 2 == 0:
            self.writer.append_data(frame)
        self.count += 1

    def close(self) -> None:
        self.writer.close()


def _check_video_path(path: pathlib.Path) -> None:
    if path.suffix.lower() not in VIDEO_SUFFIXES:
        raise UsageError(f"cannot record to {path}: the name must end in .mp4 or .gif")
    if path.is_dir():
        raise UsageError(f"cannot record to {path}: it is a folder")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UsageError(f"cannot write {path}: {e.strerror or e}") from e
    if not os.access(path.parent, os.W_OK):
        raise UsageError(f"cannot write {path}")


def play_human() -> None:
    """A person plays: hold LEFT/RIGHT to move, SPACE to fire; the game waits while no key is held."""
    import gymnasium as gym
    import pygame

    import spaceship_env  # noqa: F401

    if not has_display():
        raise UsageError("play needs a screen (no display found)")
    env = gym.make("Spaceship-v0", render_mode="human")
    env.reset()
    keys = env.unwrapped.get_keys_to_action()
    info, done = {"score": 0}, False
    try:
        while not done and env.unwrapped.window is not None and not env.unwrapped.window.closed:
            pressed = pygame.key.get_pressed()
            action = next((a for (key,), a in keys.items() if pressed[key]), None)
            if action is None:
                env.render()  # keeps the window alive while the game waits for a key
                continue
            _, _, terminated, truncated, info = env.step(action)
            done = terminated or truncated
    finally:
        env.close()
    print(f"score: {info['score']}  ({info.get('end_reason', 'stopped')})")


def evaluate(model_path: pathlib.Path, episodes: int, seed: int) -> None:
    """Mean ± std return, clear rate and length of the model and of the random policy."""
    from spaceship_env.baselines import random_policy
    from spaceship_env.evaluation import play_episodes

    model, obs_type = load_model(model_path)
    rng = np.random.default_rng(seed)
    print(f"{episodes} episodes from seeds {seed}..{seed + episodes - 1}")
    if obs_type == "features":
        agent = play_episodes(lambda obs: model.predict(obs, deterministic=True)[0], episodes, seed)
    else:
        agent = first_episodes(model, make_train_env(obs_type, episodes, seed))
    print(f"{'agent':8s} {agent.summary()}")
    print(f"{'random':8s} {play_episodes(lambda obs: random_policy(obs, rng), episodes, seed).summary()}")


def first_episodes(model: Any, venv: Any):
    """The first episode of every game of a batch (game i from seed + i), played by ``model``."""
    from spaceship_env.core import END_REASONS
    from spaceship_env.evaluation import Results

    n = venv.num_envs
    returns, lengths, reasons = np.zeros(n), np.zeros(n, np.int64), np.zeros(n, np.int8)
    running = np.ones(n, bool)
    obs = venv.reset()
    while running.any():
        obs, rewards, dones, infos = venv.step(model.predict(obs, deterministic=True)[0])
        returns += np.where(running, rewards, 0)
        lengths += running
        for i in np.flatnonzero(running & dones):
            reason = infos[i]["end_reason"]  # or "time_limit", which Results counts as running
            reasons[i] = END_REASONS.index(reason) if reason in END_REASONS else 0
        running &= ~dones
    return Results(returns, lengths, reasons)


# --- command line --------------------------------------------------------------------------
class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2: no usage dump
        raise UsageError(message)


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def positive_float(text: str) -> float:
    value = _number(text, float)
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text}")
    return value


def fraction(text: str) -> float:
    value = _number(text, float)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1], got {text}")
    return value


def _number(text: str, kind: type) -> Any:
    try:
        value = kind(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


#: Hyperparameters ``train`` may override, with their checks.
OVERRIDES = {
    "learning-rate": positive_float,
    "n-steps": positive_int,
    "batch-size": positive_int,
    "n-epochs": positive_int,
    "ent-coef": fraction,
    "gamma": fraction,
    "gae-lambda": fraction,
    "clip-range": positive_float,
}


def build_parser() -> Parser:
    parser = Parser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", parser_class=Parser)
    t = sub.add_parser("train", help="train an agent into a run folder")
    t.add_argument("--algo", choices=ALGOS, default="ppo2", help="learner (default ppo2)")
    t.add_argument("--obs", choices=OBS_TYPES, default="features", help="observations (default features)")
    t.add_argument(
        "--timesteps",
        type=positive_int,
        help=f"environment steps in all (default {TrainConfig.timesteps:,}; with --resume, a new total)",
    )
    t.add_argument("--n-envs", type=positive_int, default=TrainConfig.n_envs, help="games stepped together")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--run-dir", type=pathlib.Path, help="output folder (default runs/ALGO-OBS-TIME)")
    t.add_argument("--resume", type=pathlib.Path, metavar="RUN_DIR", help="continue a run from its last checkpoint")
    for name, kind in OVERRIDES.items():
        t.add_argument(f"--{name}", type=kind, help="override the learner's default")
    t.add_argument("--net-arch", type=positive_int, nargs="+", metavar="UNITS", help="hidden layers, e.g. 256 256")
    w = sub.add_parser("watch", help="watch an agent play, with its action probabilities")
    w.add_argument("--model", type=pathlib.Path, default=PRETRAINED, help="model zip (default: the shipped one)")
    w.add_argument("--episodes", type=positive_int, default=1)
    w.add_argument("--record", type=pathlib.Path, help="write an MP4 or GIF instead of opening a window")
    w.add_argument("--deterministic", action="store_true", help="take the most probable action")
    w.add_argument("--seed", type=int, default=0)
    sub.add_parser("play", help="play with the keyboard: arrows move, space fires")
    e = sub.add_parser("evaluate", help="mean return and clear rate, beside the random policy")
    e.add_argument("--model", type=pathlib.Path, default=PRETRAINED)
    e.add_argument("--episodes", type=positive_int, default=100)
    e.add_argument("--seed", type=int, default=0)
    return parser


def read_config(run_dir: pathlib.Path) -> TrainConfig:
    path = run_dir / "config.json"
    if not path.is_file():
        raise UsageError(f"nothing to resume in {run_dir}: no config.json")
    try:
        return TrainConfig(**json.loads(path.read_text()))
    except (ValueError, TypeError) as e:
        raise UsageError(f"{path} is not a run's config: {e}") from e


def train_command(args: argparse.Namespace) -> pathlib.Path:
    if args.resume is not None:
        defaults = vars(build_parser().parse_args(["train"]))
        for name, default in defaults.items():
            if name not in ("resume", "timesteps") and getattr(args, name) != default:
                option = "--" + name.replace("_", "-")
                raise UsageError(f"{option} cannot be combined with --resume: the run keeps its own settings")
        config = read_config(args.resume)
        config.timesteps = args.timesteps or config.timesteps
        train(config, args.resume, resume=True)
        return args.resume
    hyper = default_hyperparams(args.algo, args.obs)
    accepted = inspect.signature(algo_class(args.algo)).parameters
    for option in OVERRIDES:
        name = option.replace("-", "_")
        if getattr(args, name) is None:
            continue
        if name not in accepted:
            raise UsageError(f"--{option} does not apply to --algo {args.algo}")
        hyper[name] = getattr(args, name)
    if args.net_arch is not None:
        hyper["policy_kwargs"] = {"net_arch": args.net_arch}
    config = TrainConfig(args.algo, args.obs, args.timesteps or TrainConfig.timesteps, args.n_envs, args.seed, hyper)
    run_dir = args.run_dir or ROOT / "runs" / f"{args.algo}-{args.obs}-{time.strftime('%Y%m%d-%H%M%S')}"
    train(config, run_dir)
    return run_dir


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    if args.command is None:  # the main job: train with the defaults, then show an episode
        args = build_parser().parse_args(["train"])
        run_dir = train_command(args)
        watch(run_dir / "model.zip", 1, None, True, seed=0)
    elif args.command == "train":
        train_command(args)
    elif args.command == "watch":
        watch(args.model, args.episodes, args.record, args.deterministic, args.seed)
    elif args.command == "play":
        play_human()
    elif args.command == "evaluate":
        evaluate(args.model, args.episodes, args.seed)


def run(argv: list[str] | None = None) -> int:
    """``main`` with every expected failure as one line on stderr and a non-zero exit."""
    from agent import ModelLoadError

    try:
        main(argv)
    except (UsageError, ModelLoadError, ValueError, FileNotFoundError, PermissionError) as e:
        print(f"play.py: error: {e}", file=sys.stderr)
        return 2
    except FloatingPointError as e:  # training diverged; train() has saved what it had
        print(f"play.py: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("play.py: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(run())
