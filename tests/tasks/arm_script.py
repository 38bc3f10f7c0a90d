"""Scripted motions of the project's arm for task tests: joint targets from inverse kinematics on
MuJoCo's C engine, turned into the arm tasks' own actions (``tasks.arm_common``: joint targets
``home + ARM_ACTION_SCALE * action``, the gripper's sign)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence

import mujoco
import numpy as np
import torch
import warp as wp

from warplab.assets.robots.arm import ARM_HOME, ARM_JOINT_NAMES, EE_SITE
from warplab.envs.rl_env import RlEnv
from warplab.tasks import handle_mdp
from warplab.tasks.arm_common import ARM_ACTION_SCALE

Plan = Sequence[np.ndarray]
"""One world's waypoints, joint angles [7] each."""
Phase = tuple[int, Callable[[Plan, int], np.ndarray], Callable[[Plan, int], np.ndarray], float | np.ndarray]
"""(policy steps, from (plan, world) -> q, to (plan, world) -> q, the actions after the arm's: the
gripper's one value, or the hand's 16)."""


def ik(
    model: mujoco.MjModel,
    q0: np.ndarray,
    position: np.ndarray,
    rotation: np.ndarray,
    site_name: str = EE_SITE,
) -> np.ndarray:
    """Arm joint angles [7] that put the site ``site_name`` (the gripper's TCP unless named) at
    ``position`` (world, m) with ``rotation`` [3, 3], by damped least squares on MuJoCo's C engine
    (the arm's joints are qpos 0-6)."""
    data = mujoco.MjData(model)
    data.qpos[:7] = q0
    site = model.site(site_name).id
    lo, hi = model.jnt_range[:7].T
    jacp, jacr = np.zeros((3, model.nv)), np.zeros((3, model.nv))
    for _ in range(200):
        mujoco.mj_kinematics(model, data)
        mujoco.mj_comPos(model, data)
        current = data.site_xmat[site].reshape(3, 3)
        error = np.concatenate(
            [position - data.site_xpos[site], 0.5 * np.cross(current, rotation, axis=0).sum(axis=1)]
        )
        mujoco.mj_jacSite(model, data, jacp, jacr, site)
        jac = np.vstack([jacp, jacr])[:, :7]
        step = jac.T @ np.linalg.solve(jac @ jac.T + 1e-6 * np.eye(6), error)
        data.qpos[:7] = np.clip(data.qpos[:7] + step, lo, hi)
    assert np.abs(error).max() < 1e-5
    return data.qpos[:7].copy()


def home_and_down_rotation(model: mujoco.MjModel) -> tuple[np.ndarray, np.ndarray]:
    """The arm's home joint angles [7] and the TCP's orientation there [3, 3] (pointing down)."""
    home = np.array([ARM_HOME[j] for j in ARM_JOINT_NAMES])
    data = mujoco.MjData(model)
    data.qpos[:7] = home
    mujoco.mj_kinematics(model, data)
    return home, data.site_xmat[model.site(EE_SITE).id].reshape(3, 3).copy()


def scripted_actions(
    env: RlEnv, home: np.ndarray, q_start: np.ndarray, plans: Sequence[Plan], phases: Sequence[Phase]
) -> Iterator[torch.Tensor]:
    """The env's actions ``[num_envs, action_dim]``, one per policy step: each phase moves every
    world's joints from its ``from`` to its ``to`` angles on a smooth (cubic) profile, the
    gripper's (or hand's) actions held. ``q_start``: [num_envs, 7] the angles at the start."""
    for steps, start, end, grip in phases:
        for k in range(1, steps + 1):
            s = k / steps
            s = 3 * s**2 - 2 * s**3  # a smooth start and stop
            action = torch.zeros(env.num_envs, env.action_dim)
            for i, plan in enumerate(plans):
                q = start(plan, i) + s * (end(plan, i) - start(plan, i))
                action[i, :7] = torch.as_tensor((q - home) / ARM_ACTION_SCALE)
            action[:, 7:] = torch.as_tensor(grip, dtype=torch.float32)
            yield action


def peak_contacts_and_rows(env: RlEnv) -> tuple[int, int]:
    """The most contacts and constraint rows any one world holds now."""
    count = int(env.sim.contact.count[0])
    per_world = torch.bincount(env.sim.contact.worldid[:count].long(), minlength=env.num_envs)
    return int(per_world.max()), int(wp.to_torch(env.sim.data.nefc).max())


def approach_and_grasp(
    model: mujoco.MjModel, home: np.ndarray, rotation: np.ndarray, knob: np.ndarray
) -> list[np.ndarray]:
    """A handle task's first two waypoints [7] each: the TCP 10 cm above the knob, then at it."""
    above = ik(model, home, knob + [0.0, 0.0, 0.10], rotation)
    return [above, ik(model, above, knob, rotation)]


def approach_and_grasp_phases(q_start: np.ndarray) -> list[Phase]:
    """From the start over the knob (plan[0]) and down to it (plan[1]) open, then close the gripper."""
    return [
        (40, lambda p, i: q_start[i], lambda p, i: p[0], 1.0),
        (30, lambda p, i: p[0], lambda p, i: p[1], 1.0),
        (15, lambda p, i: p[1], lambda p, i: p[1], -1.0),
    ]


@dataclasses.dataclass
class HandleRun:
    """What a scripted handle-task episode reached, per world (``[num_envs]``) unless said."""

    best: dict[str, torch.Tensor]
    """The largest value of each named reward term until the world's episode ended."""
    peak_opening: torch.Tensor
    """The largest joint opening before a step, until the world's episode ended."""
    succeeded: torch.Tensor
    """Whether the episode ended by the success termination."""
    peak_contacts: int
    peak_rows: int


def run_handle_script(
    env: RlEnv,
    actions: Iterator[torch.Tensor],
    joint: str,
    reward_names: Sequence[str],
) -> HandleRun:
    """Steps a handle task's ``env`` (``tasks.handle_task``) through ``actions``, checking that no world terminates and that every episode
    that ends is a success (not a time-out), and records what each world reached."""
    names = env.reward_manager.names
    success_column = env.termination_manager.names.index("success")
    done = torch.zeros(env.num_envs, dtype=torch.bool)
    run = HandleRun(
        best={name: torch.zeros(env.num_envs) for name in reward_names},
        peak_opening=torch.zeros(env.num_envs),
        succeeded=torch.zeros(env.num_envs, dtype=torch.bool),
        peak_contacts=0,
        peak_rows=0,
    )
    for action in actions:
        before = handle_mdp.joint_opening(env, joint).clone()
        _, _, terminated, truncated, _ = env.step(action)
        live = ~done
        assert not terminated.any()
        terms = env.reward_manager.step_terms
        for name, value in run.best.items():
            value.copy_(torch.where(live, torch.maximum(value, terms[:, names.index(name)]), value))
        run.peak_opening = torch.where(live, torch.maximum(run.peak_opening, before), run.peak_opening)
        ended = truncated & live
        assert not (ended & ~env.termination_manager.term_flags[:, success_column]).any(), "a time-out"
        run.succeeded |= ended
        done |= ended
        contacts, rows = peak_contacts_and_rows(env)
        run.peak_contacts, run.peak_rows = max(run.peak_contacts, contacts), max(run.peak_rows, rows)
    return run
