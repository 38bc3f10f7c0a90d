"""What the tasks of the project's arm share (``arm-lift``, ``arm-open-drawer``, ``arm-open-door``): its
action terms.

Swap ``actions["arm"]`` for ``mdp.DifferentialIKAction`` to command the gripper's pose instead of
the joints; the gripper term stays.
"""

from __future__ import annotations

from warplab.assets.robots.arm import ARM_JOINT_NAMES, GRIPPER_JOINT, GRIPPER_STROKE
from warplab.envs import mdp
from warplab.envs.config import ActionTermCfg

ARM_ACTION_SCALE = 0.5
"""Joint targets are ``home + ARM_ACTION_SCALE * action``, rad (Isaac Lab's Franka tasks use 0.5)."""


def arm_actions_cfg(scale: float = ARM_ACTION_SCALE) -> dict[str, ActionTermCfg]:
    """The arm's 8 action values: ``arm`` (7 joint targets around home, ``scale`` rad per unit) and
    ``gripper`` (1 value: below 0 closes the fingers to 0 m, 0 and above opens them to the stroke)."""
    return {
        "arm": ActionTermCfg(
            func=mdp.JointPositionAction, params={"actuators": list(ARM_JOINT_NAMES), "scale": scale}
        ),
        "gripper": ActionTermCfg(
            func=mdp.BinaryGripperAction,
            params={"actuators": GRIPPER_JOINT, "open": GRIPPER_STROKE, "close": 0.0},
        ),
    }
