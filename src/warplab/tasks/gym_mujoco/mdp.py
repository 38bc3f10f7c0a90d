"""Terms and the model loader shared by the tasks that reimplement Gymnasium's MuJoCo environments.

Each such task uses Gymnasium's own model file, observation, reward and reset, so that its numbers
compare with Gymnasium's: the observation terms read MuJoCo's fields as Gymnasium does, and the
forward-velocity term differences positions over a policy step with the same staleness (MuJoCo
reports positions computed at the start of the last substep, in both engines).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import mujoco
import torch

from warplab.envs import draws
from warplab.envs.managers.protocols import RewardTerm

if TYPE_CHECKING:
    from warplab.envs.config import RewardTermCfg
    from warplab.envs.rl_env import RlEnv


def gym_asset_spec(filename: str) -> mujoco.MjSpec:
    """Gymnasium's model ``filename`` (e.g. ``"ant.xml"``) with the Newton solver: MuJoCo Warp has no PGS."""
    import gymnasium

    path = os.path.join(os.path.dirname(gymnasium.__file__), "envs", "mujoco", "assets", filename)
    spec = mujoco.MjSpec.from_file(path)
    spec.option.solver = mujoco.mjtSolver.mjSOL_NEWTON
    return spec


def qpos_without_xy(env: RlEnv) -> torch.Tensor:
    """``[num_envs, nq - 2]`` joint positions without the root's x and y, as Gymnasium excludes them."""
    return env.sim.qpos[:, 2:]


def qvel(env: RlEnv) -> torch.Tensor:
    """``[num_envs, nv]`` joint velocities."""
    return env.sim.qvel


def external_contact_forces(env: RlEnv, clip: float | None = None) -> torch.Tensor:
    """``[num_envs, (nbody - 1) * 6]`` external forces on bodies (cfrc_ext: torque, force), each entry
    clipped to [-clip, clip] when ``clip`` is given."""
    forces = env.sim.cfrc_ext[:, 1:]
    if clip is not None:
        forces = forces.clamp(-clip, clip)
    return forces.flatten(1)


class forward_velocity(RewardTerm):  # noqa: N801 - a term class reads like a function in configs
    """Forward (x) velocity over the last policy step, m/s, of a body's origin or of the centre of mass.

    Params: ``body`` (a body name; None: the whole model's centre of mass, ``subtree_com`` of the
    world body). Like Gymnasium, it differences the position MuJoCo reports after the step and the
    one before the step: stored after the previous step, after the reset, or after the world's
    state was set (``RlEnv.set_physical_state``), from that state.

    State: ``x_before [num_envs]``, m (world frame), the position the next step differences from.
    """

    def __init__(self, cfg: RewardTermCfg, env: RlEnv) -> None:
        body = cfg.params.get("body")
        self._body = None if body is None else env.index.ids("body", body)[0]
        self.x_before = self._x(env).clone()

    def _x(self, env: RlEnv) -> torch.Tensor:
        if self._body is None:
            return env.sim.subtree_com[:, 0, 0]
        return env.sim.xpos[:, self._body, 0]

    def __call__(self, env: RlEnv, body: str | None = None) -> torch.Tensor:
        x = self._x(env)
        velocity = (x - self.x_before) / env.policy_dt
        self.x_before.copy_(x)
        return velocity

    def reset(self, env: RlEnv, mask: torch.Tensor) -> None:
        self.x_before.copy_(torch.where(mask, self._x(env), self.x_before))

    def on_state_set(self, env: RlEnv, mask: torch.Tensor) -> None:
        """The position before the next step is the one of the state just set (after its forward)."""
        self.reset(env, mask)


def reset_with_noise(
    env: RlEnv, mask: torch.Tensor, qpos_scale: float, qvel_scale: float, qvel_normal: bool = False
) -> None:
    """Initial qpos plus uniform noise in [-qpos_scale, qpos_scale] on every entry, and initial qvel plus
    uniform noise in [-qvel_scale, qvel_scale] (or normal noise of std ``qvel_scale``), as Gymnasium resets."""
    sim = env.sim
    n = env.num_envs
    qpos_noise = 2.0 * draws.rand((n, sim.qpos.shape[1]), env.rng, env.device) - 1.0
    if qvel_normal:
        qvel_noise = draws.randn((n, sim.qvel.shape[1]), env.rng, env.device)
    else:
        qvel_noise = 2.0 * draws.rand((n, sim.qvel.shape[1]), env.rng, env.device) - 1.0
    sim.qpos.copy_(torch.where(mask[:, None], sim.init_qpos + qpos_scale * qpos_noise, sim.qpos))
    sim.qvel.copy_(torch.where(mask[:, None], sim.init_qvel + qvel_scale * qvel_noise, sim.qvel))
