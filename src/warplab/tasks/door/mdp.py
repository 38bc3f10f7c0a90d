"""Terms only the door task uses. The rest it shares with the drawer task (``tasks.handle_mdp``):
the approach and grasp terms, the opening rewards and the success test read one hinge or slide joint
and a ``TargetOpeningCommand``, so a door's hinge serves them as a drawer's slide does."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from warplab.tasks.handle_mdp import TargetOpeningCommand, slide_damping_friction

if TYPE_CHECKING:
    from warplab.envs.rl_env import RlEnv


class TargetAngleCommand(TargetOpeningCommand):
    """How far to swing the door open: a ``TargetOpeningCommand`` of a hinge, rad, drawn from
    ``angle`` at each reset (``command [num_envs, 1]``; ``held_steps`` counts the steps past it).

    Params: ``angle``: ``(low, high)`` rad; ``joint``: the door's hinge.
    """

    components = ("angle",)
    range_param = "angle"


def hinge_dynamics(env: RlEnv, joint: str) -> torch.Tensor:
    """``[num_envs, 4]`` the hinge's viscous damping (N·m·s/rad), dry friction (N·m), spring
    stiffness (N·m/rad) and spring rest angle (rad, MuJoCo's ``springref``) in each world: the
    critic's privileged view of how hard the door is to swing and where it swings back to."""
    joint_id = env.index.tensor("joint", joint)
    stiffness = env.sim.model_field("jnt_stiffness")[:, joint_id]
    springref = env.sim.model_field("qpos_spring")[:, env.index.joint_qpos_ids(joint)]
    return torch.cat([slide_damping_friction(env, joint), stiffness, springref], dim=1)


__all__ = ["TargetAngleCommand", "hinge_dynamics"]
