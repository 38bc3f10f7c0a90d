"""Exact save and restore of an env: ``get_state``, k steps, ``set_state``, the same k steps again.

Bitwise equality on the CPU, after a round trip through ``torch.save`` / ``torch.load(weights_only=True)``
as in a checkpoint; and clear errors for a state from another number of worlds or another task.
"""

from __future__ import annotations

import io

import pytest
import torch

import warplab
from warplab.envs import (
    CommandTermCfg,
    CurriculumTermCfg,
    EnvStateError,
    EventTermCfg,
    NoiseCfg,
    ObservationGroupCfg,
    ObservationTermCfg,
    RewardTermCfg,
    RlEnv,
    mdp,
)
from warplab.envs.managers import RewardTerm

from ._cfgs import cartpole_cfg, free_body_cfg, time_out_cfg


def _through_a_file(state: dict) -> dict:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)


def _roll(env, steps: int, amplitude: float, seed: int = 123):
    """Steps ``env`` with a fixed sequence of uniform actions; returns what it gave, stacked."""
    actions = torch.Generator().manual_seed(seed)
    out = {"obs": [], "final_obs": [], "reward": [], "terminated": [], "truncated": []}
    for _ in range(steps):
        action = amplitude * (2 * torch.rand(env.num_envs, env.action_dim, generator=actions) - 1)
        obs, reward, terminated, truncated, info = env.step(action)
        out["obs"].append(obs["policy"].clone())
        out["final_obs"].append(info["final_obs"]["policy"].clone())
        out["reward"].append(reward.clone())
        out["terminated"].append(terminated.clone())
        out["truncated"].append(truncated.clone())
    return {k: torch.stack(v) for k, v in out.items()}


def _assert_same(a: dict, b: dict) -> None:
    for key in a:
        assert torch.equal(a[key], b[key]), f"{key} differs after set_state"


@pytest.mark.parametrize(
    ("task", "amplitude", "steps"),
    # Amplitudes within each task's action range; enough steps that some worlds end and reset.
    [("cartpole-balance", 1.0, 25), ("Humanoid-v5", 0.4, 20)],
)
def test_set_state_replays_the_same_steps_bitwise(task, amplitude, steps):
    env = warplab.make(task, num_envs=2, device="cpu")
    _roll(env, 5, amplitude, seed=1)  # mid-episode, with non-trivial action and reward buffers
    state = _through_a_file(env.get_state())
    saved_obs = env.observations["policy"].clone()

    first = _roll(env, steps, amplitude)
    assert (first["terminated"] | first["truncated"]).any(), "the rollout should cover a reset"
    env.set_state(state)
    assert torch.equal(env.observations["policy"], saved_obs)
    _assert_same(first, _roll(env, steps, amplitude))

    # And in another env, built with another seed, as when a run resumes in a new process.
    fresh = warplab.make(task, num_envs=2, device="cpu", seed=5)
    fresh.set_state(state)
    _assert_same(first, _roll(fresh, steps, amplitude))


class _StepsSinceReset(RewardTerm):
    """A reward term class whose state is a plain tensor attribute (no ``state_tensors``): the env
    state must pick it up by itself."""

    def __init__(self, cfg, env):
        self.steps = torch.zeros(env.num_envs, device=env.device)

    def __call__(self, env):
        self.steps += 1.0
        return self.steps.clone()

    def reset(self, env, mask):
        self.steps.masked_fill_(mask, 0.0)


def _level(env, mask):
    """A curriculum term: the mean episode length so far, s (logged)."""
    return env.episode_length_buf.float().mean() * env.policy_dt


def _everything_cfg(seed: int):
    """The free body with every kind of state: startup and reset randomization (one needing
    ``set_const``), an interval push and gravity change, a command, noisy observations with a
    history, a stateful reward term class, a curriculum, and short episodes."""
    return free_body_cfg(
        num_envs=3,
        seed=seed,
        episode_length_s=0.1,
        events={
            "mass": EventTermCfg(func=mdp.randomize_mass, mode="startup", params={"ranges": (0.8, 1.2)}),
            "gains": EventTermCfg(
                func=mdp.randomize_pd_gains,
                mode="reset",
                params={"kp_range": (0.5, 1.5), "kd_range": (0.5, 1.5)},
            ),
            "push": EventTermCfg(
                func=mdp.push_by_setting_velocity,
                mode="interval",
                interval_range_s=(0.02, 0.06),
                params={"velocity_range": {"x": (-0.5, 0.5), "yaw": (-1.0, 1.0)}},
            ),
            "gravity": EventTermCfg(
                func=mdp.randomize_gravity,
                mode="interval",
                interval_range_s=(0.04, 0.08),
                params={"ranges": (-1, 1)},
            ),
        },
        commands={
            "vel": CommandTermCfg(
                func=mdp.UniformVelocityCommand,
                resampling_time_range_s=(0.02, 0.06),
                params={"lin_vel_x": (-1.0, 1.0), "ang_vel_z": (-1.0, 1.0)},
            )
        },
        curriculum={"level": CurriculumTermCfg(func=_level)},
        observations={
            "policy": ObservationGroupCfg(
                terms={
                    "lin_vel": ObservationTermCfg(
                        func=mdp.base_lin_vel_b, noise=NoiseCfg("gaussian", 0.05), history_length=3
                    ),
                    "command": ObservationTermCfg(
                        func=mdp.generated_commands, params={"command_name": "vel"}
                    ),
                    "last_action": ObservationTermCfg(func=mdp.last_action),
                },
                enable_corruption=True,
            )
        },
        rewards={
            "tracking": RewardTermCfg(
                func=mdp.track_lin_vel_xy_exp, weight=1.0, params={"std": 0.5, "command_name": "vel"}
            ),
            "rate": RewardTermCfg(func=mdp.action_rate_l2, weight=-0.1),
            "steps": RewardTermCfg(func=_StepsSinceReset, weight=0.01),
        },
        terminations={"time_out": time_out_cfg()},
    )


def test_a_fresh_env_continues_exactly_from_a_saved_state():
    # Like a resumed run: the state goes into another env, built with another seed, whose
    # randomized fields differ and where the interval events have not yet made gravity per-world.
    env = RlEnv(_everything_cfg(seed=3))
    _roll(env, 7, 1.0, seed=1)
    state = _through_a_file(env.get_state())
    assert set(state["model_fields"]) == {
        "body_mass",
        "body_inertia",
        "actuator_gainprm",
        "actuator_biasprm",
        "opt.gravity",
    }
    assert "rewards.terms.steps.steps" in state["tensors"]
    assert "observations.history.policy.lin_vel.buffer" in state["tensors"]
    assert "sim.model.body_subtreemass" in state["tensors"]  # derived by set_const from the masses

    fresh = RlEnv(_everything_cfg(seed=99))
    assert "opt.gravity" not in fresh.sim.fields.names
    fresh.set_state(state)
    _assert_same(_roll(env, 15, 1.0), _roll(fresh, 15, 1.0))
    assert env.pop_episode_stats() == fresh.pop_episode_stats()


def test_a_state_for_another_number_of_worlds_is_refused():
    state = RlEnv(cartpole_cfg(num_envs=2)).get_state()
    env = RlEnv(cartpole_cfg(num_envs=3))
    before = env.get_state()
    with pytest.raises(EnvStateError, match=r"saved with num_envs=2, this env has num_envs=3"):
        env.set_state(state)
    # Nothing was written.
    assert torch.equal(env.get_state()["tensors"]["sim.data.qpos"], before["tensors"]["sim.data.qpos"])


def test_a_state_of_another_task_is_refused():
    state = warplab.make("cartpole-balance", num_envs=2, device="cpu").get_state()
    humanoid = warplab.make("Humanoid-v5", num_envs=2, device="cpu")
    with pytest.raises(EnvStateError, match=r"another environment \(task\): scene: .*cartpole_spec"):
        humanoid.set_state(state)


def test_a_state_of_other_terms_names_the_buffers():
    # Same scene, same reward names, but one term is now a class with state: the buffers differ.
    plain = cartpole_cfg(rewards={"r": RewardTermCfg(func=mdp.is_alive)})
    stateful = cartpole_cfg(rewards={"r": RewardTermCfg(func=_StepsSinceReset)})
    with pytest.raises(
        EnvStateError, match=r"this env has buffers the state lacks: \['rewards.terms.r.steps'\]"
    ):
        RlEnv(stateful).set_state(RlEnv(plain).get_state())
    with pytest.raises(EnvStateError, match="not an RlEnv state"):
        RlEnv(plain).set_state({"qpos": torch.zeros(2, 2)})
