"""``shadow-reorient-cube``: the reorientation task on the Shadow Dexterous Hand of Gymnasium-Robotics
(loaded from the installed package, ``warplab.tasks.gym_robotics.shadow_hand_robot_cfg``), with a
cube of the package's block size built here (``Scene``/``ObjectCfg``), not the package's block scene.
Needs ``pip install "warplab[robotics]"`` to build; the config itself builds without it."""

from __future__ import annotations

import dataclasses

from warplab.envs.config import RlEnvCfg
from warplab.tasks.gym_robotics.shadow_hand import shadow_hand_robot_cfg
from warplab.tasks.reorient.env_cfg import SUCCESS_TOLERANCE_RAD, ReorientHandCfg, make_reorient_env_cfg

_FINGERS = ("ff", "mf", "rf", "lf", "th")

SHADOW_REORIENT_CFG = ReorientHandCfg(
    name="shadow_hand",
    robot=dataclasses.replace(shadow_hand_robot_cfg(), name="shadow_hand"),
    palm_body="robot0:palm",
    # The package mounts the hand palm up with the palm body's -y axis pointing up.
    palm_normal=(0.0, -1.0, 0.0),
    fingertip_sites=tuple(f"robot0:S_{f}tip" for f in _FINGERS),
    touch_sensors=tuple(f"robot0:ST_Tch_{f}tip" for f in _FINGERS),
    # The package's block (hand/manipulate_block.xml): a 5 cm cube of density 567 kg/m^3 (70.9 g),
    # friction 1, condim 4.
    cube_half_size=0.025,
    cube_mass=567.0 * 0.05**3,
    cube_condim=4,
    # Where the block comes to rest on the open hand at home, measured with MuJoCo from the package's
    # start position (0, -0.06, 0.09) in the palm frame: 2.7 cm out of the palm body's origin.
    cube_rest_pos=(0.0, -0.027, 0.095),
    # The package's 2 ms step; 10 of them make the same 50 Hz policy as hand-reorient-cube (the
    # package itself acts every 20 steps, 25 Hz).
    timestep=0.002,
    decimation=10,
    goal_time_limit_s=10.0,
    fall_distance_m=0.24,
    # The palm is only about 0.14 m above the floor, nearer than fall_distance_m: below 4 cm the
    # block is off the palm, the package's own test when it draws start states.
    fall_min_height_m=0.04,
    # Contact capacity: over 16 worlds x 150 steps of uniform random, full-squeeze and Gaussian
    # actions (CPU, 2026-12) the most seen in one world was 26 contacts and 172 rows (the package's
    # pyramidal cone gives a condim-4 contact 6 rows; tendon and joint limits add more); twice that.
    # (Isaac Lab's MuJoCo Warp preset of its Shadow task, another model, uses 70 and 200.)
    nconmax=56,
    njmax=352,
)
"""The Shadow hand as the reorientation task uses it."""


def make_shadow_reorient_env_cfg(play: bool = False) -> RlEnvCfg:
    """``shadow-reorient-cube``: success within 0.1 rad, randomization on (noise off in play)."""
    return make_reorient_env_cfg(SHADOW_REORIENT_CFG, play=play, tolerance_rad=SUCCESS_TOLERANCE_RAD)
