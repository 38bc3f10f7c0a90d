"""``make_env_cfg`` passes ``play`` only to factories that take it, and never hides their errors."""

from __future__ import annotations

import pytest

from warplab.tasks import make_env_cfg, register_task, registry
from warplab.tasks.cartpole import make_cartpole_env_cfg


@pytest.fixture
def scratch_tasks(monkeypatch):
    """Registrations made by a test vanish with it (a copy of the registry's table)."""
    monkeypatch.setattr(registry, "_TASKS", dict(registry._TASKS))


def test_a_type_error_inside_a_factory_that_takes_play_surfaces(scratch_tasks):
    """It was caught and the factory called again without ``play``, so the real error vanished
    (or a second, unrelated one took its place)."""

    def broken(play: bool = False):
        if play:  # a bug in the factory's play branch
            raise TypeError("unsupported operand type(s) for +: 'int' and 'str'")
        return make_cartpole_env_cfg()

    register_task("test-broken-factory", broken)
    with pytest.raises(TypeError, match="unsupported operand"):
        make_env_cfg("test-broken-factory", play=True)


def test_play_reaches_factories_that_take_it_and_not_the_others(scratch_tasks):
    seen = []

    def with_play(play: bool = False):
        seen.append(play)
        return make_cartpole_env_cfg()

    def with_kwargs(**kwargs):
        seen.append(kwargs.get("play"))
        return make_cartpole_env_cfg()

    register_task("test-with-play", with_play)
    register_task("test-with-kwargs", with_kwargs)
    register_task("test-without-play", lambda: make_cartpole_env_cfg())
    make_env_cfg("test-with-play", play=True)
    make_env_cfg("test-with-kwargs", play=True)
    cfg = make_env_cfg("test-without-play", play=True)
    assert seen == [True, True]
    assert cfg.compile_managers is False  # play mode still turns the compile off
