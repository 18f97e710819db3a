"""Learners for the lecture: PPO2 and plain policy gradient, on Stable-Baselines3."""
