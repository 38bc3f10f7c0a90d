"""``cartpole-balance``: keep a pole upright on a cart by pushing the cart. Small and fast.

The pole starts within 0.1 rad of upright. An episode ends when the pole leans past 0.4 rad or
the cart leaves +-2.5 m, or after 10 s. Each step alive earns 1; leaning, straying from the
centre and pushing hard cost a little. A random policy keeps the pole up for about half a
second (a return near 25); a balancing policy earns close to 500.
"""

from __future__ import annotations

from warplab.assets.robots.cartpole import cartpole_spec
from warplab.envs import mdp
from warplab.envs.config import (
    ActionTermCfg,
    EventTermCfg,
    ObservationGroupCfg,
    ObservationTermCfg,
    RewardTermCfg,
    RlEnvCfg,
    TerminationTermCfg,
    ViewerCfg,
)
from warplab.tasks.cartpole.mdp import cart_pos_l2, pole_angle_l2


def make_cartpole_env_cfg(play: bool = False) -> RlEnvCfg:
    """The ``cartpole-balance`` task."""
    return RlEnvCfg(
        scene=cartpole_spec,
        decimation=2,
        episode_length_s=10.0,
        scale_rewards_by_dt=False,
        observations={
            "policy": ObservationGroupCfg(
                terms={
                    "joint_pos": ObservationTermCfg(func=mdp.joint_pos),
                    "joint_vel": ObservationTermCfg(func=mdp.joint_vel),
                },
            )
        },
        actions={"cart_force": ActionTermCfg(func=mdp.JointEffortAction, params={"scale": 1.0})},
        rewards={
            "alive": RewardTermCfg(func=mdp.is_alive, weight=1.0),
            "pole_angle": RewardTermCfg(func=pole_angle_l2, weight=-1.0),
            "cart_pos": RewardTermCfg(func=cart_pos_l2, weight=-0.05),
            "effort": RewardTermCfg(func=mdp.action_l2, weight=-0.01),
        },
        terminations={
            "time_out": TerminationTermCfg(func=mdp.time_out, time_out=True),
            "pole_fell": TerminationTermCfg(
                func=mdp.joint_pos_out_of_range, params={"joints": "hinge", "low": -0.4, "high": 0.4}
            ),
            "cart_out": TerminationTermCfg(
                func=mdp.joint_pos_out_of_range, params={"joints": "slider", "low": -2.5, "high": 2.5}
            ),
        },
        events={
            "reset_joints": EventTermCfg(
                func=mdp.reset_joints_by_offset,
                mode="reset",
                params={"position_range": (-0.1, 0.1), "velocity_range": (-0.1, 0.1)},
            )
        },
        viewer=ViewerCfg(track_body=None, distance=5.0, elevation=-5.0, azimuth=90.0),
    )
