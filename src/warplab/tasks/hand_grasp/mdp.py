"""Terms only the hand's grasp-and-lift task uses: where the hand grasps (the centre of the palm and
the fingertips), a reach reward on that point, and a grasp reward from the fingertips' touch
sensors. Lifting, the goal and its tracking are the lift task's (``warplab.tasks.lift.mdp``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from warplab.envs.mdp.objects import object_pos_w

if TYPE_CHECKING:
    from warplab.envs.rl_env import RlEnv
    from warplab.envs.scene_index import Names


def grasp_centre_w(env: RlEnv, sites: Names) -> torch.Tensor:
    """``[num_envs, 3]`` the mean of the named sites' positions (the palm's centre and the
    fingertips), world frame, m: the point the closing hand squeezes towards."""
    ids = env.index.tensor("site", sites)
    return env.sim.site_xpos[:, ids].mean(dim=1)


def grasp_centre_object_distance_tanh(env: RlEnv, object: str, sites: Names, std: float) -> torch.Tensor:
    """``[num_envs]`` reaching reward ``1 - tanh(d / std)`` in (0, 1], ``d`` the distance from the
    grasp centre (``grasp_centre_w`` of ``sites``) to the object's origin, m; ``std`` in m."""
    d = torch.linalg.vector_norm(object_pos_w(env, object) - grasp_centre_w(env, sites), dim=1)
    return 1.0 - torch.tanh(d / std)


def fingertip_grasp(
    env: RlEnv,
    object: str,
    sites: Names,
    thumb_sensor: str,
    finger_sensors: Names,
    min_force_n: float,
    max_distance: float,
) -> torch.Tensor:
    """``[num_envs]`` 1.0 where the hand holds the object between the thumb and a finger, else 0.0:
    the thumb's touch sensor and at least one finger's read more than ``min_force_n`` N, and the
    object's origin is within ``max_distance`` m of the grasp centre (``grasp_centre_w`` of
    ``sites``). A touch sensor reads every contact on its fingertip, the table's too; the distance
    test keeps a hand pressing the table beside the object from counting as a grasp."""
    key = ("hand_grasp_touch", thumb_sensor, finger_sensors)
    columns = env.index.once(key, lambda: (_columns(env, [thumb_sensor]), _columns(env, finger_sensors)))
    thumb = env.sim.sensordata[:, columns[0]].squeeze(1) > min_force_n
    finger = (env.sim.sensordata[:, columns[1]] > min_force_n).any(dim=1)
    d = torch.linalg.vector_norm(object_pos_w(env, object) - grasp_centre_w(env, sites), dim=1)
    return (thumb & finger & (d < max_distance)).float()


def _columns(env: RlEnv, sensors: Names) -> torch.Tensor:
    m = env.mj_model
    ids = env.index.ids("sensor", sensors)
    wide = [env.index.names["sensor"][i] for i in ids if int(m.sensor_dim[i]) != 1]
    if wide:
        raise ValueError(f"fingertip_grasp needs one-value (touch) sensors; {wide} give more")
    return torch.as_tensor([int(m.sensor_adr[i]) for i in ids], dtype=torch.long, device=env.device)


__all__ = ["fingertip_grasp", "grasp_centre_object_distance_tanh", "grasp_centre_w"]
