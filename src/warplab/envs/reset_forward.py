"""Skipping the forward pass after resets (``RlEnvCfg.reset_forward = "none"``) and the check that
makes it safe.

Between one step's physics and the next, MuJoCo's derived quantities (body and site poses, centres
of mass, body velocities, sensors) are stale: after the substeps they describe the state at the
start of the last substep, and in a world just reset they describe the state before its reset. The
next step's physics recomputes every one of them from qpos and qvel before anything reads them, so
the only readers of the stale values are what runs between the reset and that physics: the reset
worlds' first observation and the managers' resets (commands drawn again, buffers cleared). When
those read qpos, qvel and the managers' own buffers alone, as the velocity tasks' do, the forward
pass after the reset changes nothing, and the step can skip it: MuJoCo Warp computes a forward for
every world, every step, whether one world reset or none.

``reset_forward_changes(env)`` finds out, once, when the env is built: it moves every world's
joints (without a forward), resets every world's managers, and compares the observation terms and
the managers' buffers with and without the positions-and-velocities forward in between. Anything
that differs reads a derived quantity, and the env refuses ``"none"`` naming it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mujoco
import torch

from warplab.envs.env_state import live_tensors
from warplab.envs.step_phases import reset_managers

if TYPE_CHECKING:
    from warplab.envs.rl_env import RlEnv

JOINT_OFFSET = 0.1
"""How far the check moves each joint coordinate (m or rad) and velocity (m/s or rad/s): far enough
that any pose or velocity derived from them changes in every float32 digit that matters."""


def reset_forward_changes(env: RlEnv) -> list[str]:
    """What a forward pass after a reset would change, as paths (``observations.policy.terms.<name>``,
    ``commands.terms.<name>.command``, ...); empty when the forward can be skipped.

    Leaves the env as it found it: its live state and generator are restored and the full forward
    is run at the end, so building an env with the check gives the same env as without it.
    """
    saved = {name: value.clone() for name, value in live_tensors(env).items()}
    generator = env.rng.get_state()
    everything = torch.ones(env.num_envs, dtype=torch.bool, device=env.device)

    def after_reset(forward: bool) -> dict[str, torch.Tensor]:
        _restore(env, saved, generator)
        _move_joints(env)
        if forward:
            # Eager: a "none" env never replays this forward, so no graph of it is captured.
            env.sim.forward(positions_velocities_only=True, eager=True)
        reset_managers(env, everything)
        out = {f"observations.{path}": value for path, value in env.observation_manager.term_values().items()}
        out.update(
            {name: value.clone() for name, value in live_tensors(env).items() if not name.startswith("sim.")}
        )
        return out

    without = after_reset(forward=False)
    with_forward = after_reset(forward=True)
    _restore(env, saved, generator)
    env.sim.forward()
    return [path for path, value in without.items() if not _same(value, with_forward[path])]


def _restore(env: RlEnv, saved: dict[str, torch.Tensor], generator: torch.Tensor) -> None:
    live = live_tensors(env)
    for name, value in saved.items():
        live[name].copy_(value)
    env.rng.set_state(generator)


def _move_joints(env: RlEnv) -> None:
    """Adds ``JOINT_OFFSET`` to every joint coordinate and velocity of every world (quaternions of
    free and ball joints renormalized), writing qpos and qvel only: derived quantities stay those of
    the old state, as in a world just reset."""
    mjm = env.mj_model
    qpos, qvel = env.sim.qpos, env.sim.qvel
    qpos += JOINT_OFFSET
    qvel += JOINT_OFFSET
    for joint in range(mjm.njnt):
        kind = int(mjm.jnt_type[joint])
        adr = int(mjm.jnt_qposadr[joint])
        if kind == mujoco.mjtJoint.mjJNT_FREE:
            adr += 3  # position (3), then the quaternion (4)
        elif kind != mujoco.mjtJoint.mjJNT_BALL:
            continue
        quat = qpos[:, adr : adr + 4]
        quat /= torch.linalg.vector_norm(quat, dim=1, keepdim=True)


def _same(a: torch.Tensor, b: torch.Tensor) -> bool:
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if not a.is_floating_point():
        return bool(torch.equal(a, b))
    # Not bit equality: reductions with atomics (CUDA) may sum in another order.
    return bool(torch.allclose(a, b, rtol=1e-5, atol=1e-6, equal_nan=True))
