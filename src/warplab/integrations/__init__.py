"""Adapters from warplab environments to other RL libraries.

Each adapter is a submodule, imported on its own so that a library that is not installed costs
nothing: ``warplab.integrations.gymnasium`` (a Gymnasium 1.x ``VectorEnv`` and ``warplab/<task>``
ids), ``warplab.integrations.sb3`` (a Stable-Baselines3 ``VecEnv``), ``warplab.integrations.rl_games``,
``warplab.integrations.skrl``, ``warplab.integrations.rsl_rl``. ``warplab.integrations.spaces`` gives
the Gymnasium spaces of an env. Install the libraries with ``pip install "warplab[integrations]"``.
"""
