"""Forward and backward cost per sample of the CNNs on their observations, one torch thread.

    python bench/cnn_cost.py [--batch 256] [--seconds 2]

What chose the small screen's network and stacking: SB3's Nature CNN on 4 x 84 x 84
(``--obs pixels``) against ``ScreenCNN`` on 1, 2 and 4 small frames, and ``GridCNN`` on
the grid; each with an Adam step, per second of CPU time.
"""

from __future__ import annotations

import argparse
import time

import gymnasium as gym
import numpy as np
import torch as th
from stable_baselines3.common.torch_layers import NatureCNN

from agent.cnn import GridCNN, ScreenCNN
from spaceship_env.grid import GRID_SHAPE
from spaceship_env.screens import SCREEN_H, SCREEN_W


def microseconds_per_sample(extractor: th.nn.Module, batch: int, seconds: float) -> float:
    shape = extractor._observation_space.shape
    x = th.rand(batch, *shape)
    head = th.nn.Linear(extractor.features_dim, 4)
    optimiser = th.optim.Adam([*extractor.parameters(), *head.parameters()])

    def step() -> None:
        optimiser.zero_grad()
        head(extractor(x)).sum().backward()
        optimiser.step()

    for _ in range(3):
        step()
    done, start = 0, time.process_time()
    while time.process_time() - start < seconds:
        step()
        done += 1
    return (time.process_time() - start) / done / batch * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()
    th.set_num_threads(1)

    def screens(k: int) -> gym.spaces.Box:
        return gym.spaces.Box(0, 255, (k, SCREEN_H, SCREEN_W), np.uint8)

    nets = {
        "NatureCNN, 4 x 84 x 84 (pixels)": NatureCNN(gym.spaces.Box(0, 255, (4, 84, 84), np.uint8)),
        **{f"ScreenCNN, {k} x {SCREEN_H} x {SCREEN_W}": ScreenCNN(screens(k)) for k in (1, 2, 4)},
        "GridCNN, 14 x 20 x 7 (grid)": GridCNN(gym.spaces.Box(0, 1, GRID_SHAPE, np.bool_)),
    }
    for name, net in nets.items():
        print(f"{name:34s} {microseconds_per_sample(net, args.batch, args.seconds):7.1f} µs per sample", flush=True)


if __name__ == "__main__":
    main()
