"""The library of term functions: observations, rewards, terminations, events, actions, commands.

Import it as ``from warplab.envs import mdp`` and name terms as ``mdp.base_lin_vel_b``.
"""

from warplab.envs.mdp.actions import JointEffortAction, JointPositionAction
from warplab.envs.mdp.commands import UniformVelocityCommand
from warplab.envs.mdp.events import (
    push_by_setting_velocity,
    randomize_com,
    randomize_field,
    randomize_friction,
    randomize_gravity,
    randomize_joint_damping,
    randomize_mass,
    randomize_pd_gains,
    reset_joints_by_offset,
    reset_joints_by_scale,
    reset_root_state_uniform,
)
from warplab.envs.mdp.observations import (
    base_ang_vel_b,
    base_height,
    base_lin_vel_b,
    contact_forces,
    generated_commands,
    joint_pos,
    joint_pos_rel,
    joint_vel,
    last_action,
    projected_gravity_b,
    sensor,
)
from warplab.envs.mdp.rewards import (
    action_l2,
    action_rate_l2,
    ang_vel_xy_l2,
    base_height_l2,
    feet_air_time,
    feet_slide,
    flat_orientation_l2,
    is_alive,
    is_terminated,
    joint_acc_l2,
    joint_pos_limits,
    joint_torques_l2,
    joint_vel_l2,
    lin_vel_z_l2,
    track_ang_vel_z_exp,
    track_lin_vel_xy_exp,
    undesired_contacts,
    upright,
)
from warplab.envs.mdp.terminations import (
    bad_orientation,
    illegal_contact,
    joint_pos_out_of_range,
    root_height_below,
    root_height_outside,
    time_out,
)

__all__ = [name for name in dir() if not name.startswith("_")]
