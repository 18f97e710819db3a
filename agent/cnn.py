"""Small convolutional feature extractors, sized for a CPU: the small screen and the grid.

Pass one to any of the learners with ``policy_kwargs``::

    PPO2("MlpPolicy", env, policy_kwargs={"features_extractor_class": ScreenCNN})

A saved model names the class by its dotted path (``agent.cnn.ScreenCNN``), which
:mod:`agent.allowed_classes` lets a model file name, so ``PPO2.load(path)`` rebuilds it.

SB3's ``NatureCNN`` on 4 x 84 x 84 frames costs about 830 µs per sample (forward and
backward, one thread) on this project's 2-core CPU; :class:`ScreenCNN` on the 2 x 52 x 40
small screen 44 µs (``python bench/cnn_cost.py``).
"""

from __future__ import annotations

import gymnasium as gym
import torch as th
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import nn


def _flat_size(body: nn.Module, shape: tuple[int, ...]) -> int:
    with th.no_grad():
        return int(body(th.zeros(1, *shape)).shape[1])


class ScreenCNN(BaseFeaturesExtractor):
    """Two strided convolutions and a linear layer, for channel-first images such as the small screen.

    The Nature CNN's first two layers at half the filters, with no third: on a 52 x 40
    frame of 4 x 4-pixel blocks, the first layer's 8 x 8 window spans 32 x 32 pixels,
    two alien columns, and it moves by 16 pixels, the alien column pitch.

    :param observation_space: a ``(channels, height, width)`` Box; SB3 scales uint8 images to [0, 1].
    :param features_dim: units of the linear layer, the features the policy and value heads share.
    :param filters: filters of the two convolutions.
    """

    def __init__(
        self, observation_space: gym.spaces.Box, features_dim: int = 256, filters: tuple[int, int] = (16, 32)
    ) -> None:
        super().__init__(observation_space, features_dim)
        channels = observation_space.shape[0]
        self.cnn = nn.Sequential(
            nn.Conv2d(channels, filters[0], kernel_size=8, stride=4),
            nn.ReLU(),
            nn.Conv2d(filters[0], filters[1], kernel_size=4, stride=2),
            nn.ReLU(),
            nn.Flatten(),
        )
        self.linear = nn.Sequential(nn.Linear(_flat_size(self.cnn, observation_space.shape), features_dim), nn.ReLU())

    def forward(self, observations: th.Tensor) -> th.Tensor:
        return self.linear(self.cnn(observations))


class GridCNN(BaseFeaturesExtractor):
    """One strided convolution and a linear layer, for channel-last boolean grids such as ``obs_type="grid"``.

    MinAtar's network is one 3 x 3 convolution of 16 filters and 128 units; on our
    14 x 20 grid, a 4 x 4 window moved by 2 cells keeps the cost of a 10 x 10 one.

    :param observation_space: a ``(rows, columns, channels)`` Box of 0/1 values.
    :param features_dim: units of the linear layer.
    :param filters: filters of the convolution.
    """

    def __init__(self, observation_space: gym.spaces.Box, features_dim: int = 128, filters: int = 16) -> None:
        super().__init__(observation_space, features_dim)
        rows, cols, channels = observation_space.shape
        self.cnn = nn.Sequential(nn.Conv2d(channels, filters, kernel_size=4, stride=2), nn.ReLU(), nn.Flatten())
        flat = _flat_size(self.cnn, (channels, rows, cols))
        self.linear = nn.Sequential(nn.Linear(flat, features_dim), nn.ReLU())

    def forward(self, observations: th.Tensor) -> th.Tensor:
        return self.linear(self.cnn(observations.permute(0, 3, 1, 2)))
