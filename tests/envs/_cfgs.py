"""Small hand-built environment configs for the framework tests (CPU, a few worlds)."""

from __future__ import annotations

import mujoco
import torch

from warplab.assets.robots.cartpole import cartpole_spec
from warplab.envs import (
    ActionTermCfg,
    ObservationGroupCfg,
    ObservationTermCfg,
    RewardTermCfg,
    RlEnvCfg,
    TerminationTermCfg,
    mdp,
)

CARTPOLE_DT = 0.01
"""Physics time step of the project's cart-pole model, s (``<option timestep="0.01"/>``)."""


def cartpole_cfg(num_envs: int = 2, **fields) -> RlEnvCfg:
    """The cart-pole with joint observations, a force action, no reward and no termination.

    ``decimation=2``, so ``policy_dt = 0.02 s``; ``fields`` replace fields of the config.
    """
    cfg = RlEnvCfg(
        scene=cartpole_spec,
        decimation=2,
        episode_length_s=100.0,
        scale_rewards_by_dt=False,
        num_envs=num_envs,
        device="cpu",
        observations={
            "policy": ObservationGroupCfg(
                terms={
                    "joint_pos": ObservationTermCfg(func=mdp.joint_pos),
                    "joint_vel": ObservationTermCfg(func=mdp.joint_vel),
                }
            )
        },
        actions={"force": ActionTermCfg(func=mdp.JointEffortAction)},
        rewards={},
        terminations={},
    )
    for name, value in fields.items():
        setattr(cfg, name, value)
    return cfg


class Flag:
    """A termination term driven by the test: ``flag[i] = True`` ends world i's episode at the next step."""

    def __init__(self, num_envs: int):
        self.flag = torch.zeros(num_envs, dtype=torch.bool)

    def __call__(self, env) -> torch.Tensor:
        return self.flag.clone()

    def cfg(self) -> TerminationTermCfg:
        return TerminationTermCfg(func=self)


def time_out_cfg() -> TerminationTermCfg:
    return TerminationTermCfg(func=mdp.time_out, time_out=True)


def alive_reward() -> RewardTermCfg:
    return RewardTermCfg(func=mdp.is_alive, weight=1.0)


FREE_BODY_XML = """
<mujoco model="free_body">
  <compiler angle="radian"/>
  <option timestep="0.01" gravity="0 0 0"/>
  <worldbody>
    <body name="base" pos="0 0 1">
      <freejoint name="root"/>
      <geom type="box" size="0.2 0.1 0.05" mass="2" contype="0" conaffinity="0"/>
      <body name="arm" pos="0.2 0 0">
        <joint name="elbow" type="hinge" axis="0 1 0" ref="0.3" range="-2 2" armature="0.05"/>
        <geom type="capsule" fromto="0 0 0 0.3 0 0" size="0.02" mass="0.2" contype="0" conaffinity="0"/>
      </body>
      <body name="hand" pos="-0.2 0 0">
        <joint name="wrist" type="hinge" axis="0 0 1" range="-2 2" armature="0.05"/>
        <geom type="capsule" fromto="0 0 0 -0.2 0 0" size="0.02" mass="0.1" contype="0" conaffinity="0"/>
      </body>
    </body>
  </worldbody>
  <actuator>
    <position name="elbow_pos" joint="elbow" kp="2" kv="0.2"/>
    <position name="wrist_pos" joint="wrist" kp="1" kv="0.1"/>
  </actuator>
</mujoco>
"""
"""A weightless-space free body (no contacts, no gravity) with two position-controlled hinges.

The elbow's ``ref="0.3"`` makes its default position (``qpos0``) 0.3 rad, the wrist's is 0.
"""


def free_body_spec() -> mujoco.MjSpec:
    return mujoco.MjSpec.from_string(FREE_BODY_XML)


def free_body_cfg(num_envs: int = 2, **fields) -> RlEnvCfg:
    """The free body with base observations and joint position actions (``policy_dt = 0.02 s``)."""
    cfg = RlEnvCfg(
        scene=free_body_spec,
        decimation=2,
        episode_length_s=100.0,
        num_envs=num_envs,
        device="cpu",
        observations={
            "policy": ObservationGroupCfg(
                terms={
                    "lin_vel": ObservationTermCfg(func=mdp.base_lin_vel_b),
                    "gravity": ObservationTermCfg(func=mdp.projected_gravity_b),
                }
            )
        },
        actions={"joints": ActionTermCfg(func=mdp.JointPositionAction, params={"scale": 0.5})},
        rewards={},
        terminations={},
    )
    for name, value in fields.items():
        setattr(cfg, name, value)
    return cfg


def task_env_pair(task: str, num_envs: int, device: str, switch: str, episode_length_s: float) -> list:
    """Two envs of the registered ``task`` (seed 3, episodes of ``episode_length_s`` so that worlds
    reset every few steps) that differ only in the bool config field ``switch``: off, then on. Both
    run their managers plain unless ``switch`` is ``compile_managers`` (the default, ``"auto"``,
    would compile both on CUDA), so that a pair compares one thing."""
    from warplab.envs.rl_env import RlEnv
    from warplab.tasks import make_env_cfg

    envs = []
    for on in (False, True):
        cfg = make_env_cfg(task)
        cfg.num_envs, cfg.device, cfg.seed, cfg.episode_length_s = num_envs, device, 3, episode_length_s
        cfg.compile_managers = False
        setattr(cfg, switch, on)
        envs.append(RlEnv(cfg))
    return envs


def assert_steps_agree(out_a: tuple, out_b: tuple, atol: float, rtol: float, step: int) -> None:
    """Two envs' ``step`` returns agree: the same dones, and observations, rewards and terminal
    observations within ``atol``/``rtol``."""
    assert torch.equal(out_a[2], out_b[2]) and torch.equal(out_a[3], out_b[3]), f"dones differ at step {step}"
    for a, b in zip(
        [*out_a[0].values(), out_a[1], *out_a[4]["final_obs"].values()],
        [*out_b[0].values(), out_b[1], *out_b[4]["final_obs"].values()],
        strict=True,
    ):
        torch.testing.assert_close(a, b, atol=atol, rtol=rtol, msg=f"step {step}")
