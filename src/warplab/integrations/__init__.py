"""Adapters from warplab environments to other RL libraries.

Each adapter is a submodule, imported on its own so that a library that is not installed costs
nothing: ``warplab.integrations.rl_games``, ``warplab.integrations.skrl``,
``warplab.integrations.rsl_rl``. Install the libraries with ``pip install "warplab[integrations]"``.
"""
