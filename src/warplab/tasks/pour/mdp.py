"""Terms only the pour task uses: the cup placed in the closed gripper with the spheres inside it at
a reset, the spheres counted in the cup and in the bowl, the cup's lip and tilt, and the rewards and
success built on them.

A sphere is *in* a round container when its centre lies inside the container's inner volume: above the
bottom's upper face, below the rim, and within the inner radius at its height (the radius runs linearly
from the bottom's to the rim's, as ``props.add_cup`` and ``props.add_bowl`` build the wall), all in the
container's own frame, so a tilted cup still counts what it holds.

A container may be scaled per world (``randomize_container_scale``: every length of it times one factor,
a similar shape): the terms read each world's factor from its bottom's size (``container_scale``) and
judge against the nominal shape scaled by it."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import mujoco
import numpy as np
import torch

from warplab.envs.mdp.events import _rows, _set_const
from warplab.envs.mdp.math import quat_from_matrix, quat_rotate, quat_rotate_inverse, uniform
from warplab.envs.mdp.object_events import place_object_at_rest, scale_body_inertia
from warplab.envs.mdp.objects import object_free_joint, object_pos_w, object_quat_w

Range = tuple[float, float]

if TYPE_CHECKING:
    from warplab.envs.rl_env import RlEnv


@dataclasses.dataclass(frozen=True)
class Container:
    """A round open container built by ``props.add_cup`` / ``props.add_bowl`` on a free joint: its body
    name and its inner shape, m (the builders' arguments)."""

    body: str
    bottom_radius: float
    top_radius: float
    height: float
    floor: float


def _container(params: dict[str, float | str]) -> Container:
    return Container(
        str(params["body"]),
        float(params["bottom_radius"]),
        float(params["top_radius"]),
        float(params["height"]),
        float(params["floor"]),
    )


def _bottom_geom(env: RlEnv, body: str) -> int:
    return env.index.once(("pour_bottom_geom", body), lambda: env.index.ids("geom", f"{body}_bottom")[0])


def container_scale(env: RlEnv, body: str) -> torch.Tensor:
    """``[num_envs]`` each world's scale of the container ``body`` (no unit, 1 as built): its bottom's
    half-thickness (``<body>_bottom``'s ``geom_size[1]``) over the compiled one, which
    ``randomize_container_scale`` scales with every other length of the container."""
    bottom = _bottom_geom(env, body)
    if "geom_size" not in env.sim.fields.names:
        # No size is per-world: every world has the compiled container.
        return env.index.once(("pour_unit_scale",), lambda: torch.ones(env.num_envs, device=env.device))
    size0 = env.sim.fields.default("geom_size")[bottom, 1]
    return env.sim.model_field("geom_size")[:, bottom, 1] / size0


def randomize_container_scale(env: RlEnv, mask: torch.Tensor, container: str, scale_range: Range) -> None:
    """Scales every length of the container ``container`` (a body built by ``props.add_bowl`` or
    ``props.add_cup``) by one uniform factor per world in ``scale_range`` (no unit), in the worlds of
    ``mask``: a similar container, its inside radii, height, wall and bottom all ``s`` times the built
    ones, its mass kept.

    Writes ``geom_size = size0 * s`` and ``geom_pos = pos0 * s`` (body frame) of each of its geoms (their
    orientations hold: the walls' slope is a ratio of lengths), ``body_ipos = ipos0 * s`` and
    ``body_inertia = inertia0 * (mass / mass0) * s**2`` (a similar body of the same mass), then the
    bounds that collision detection reads (``geom_rbound``, ``geom_aabb``) and the other constants
    (``set_const``): costly, use at startup."""
    lo, hi = scale_range
    if not 0.0 < lo <= hi:
        raise ValueError(f"randomize_container_scale: scale_range must be 0 < low <= high, got {scale_range}")
    geoms = env.index.once(("pour_container_geoms", container), lambda: _body_geoms(env, container))
    body = env.index.ids("body", container)[0]
    scale = uniform(lo, hi, (env.num_envs, 1), env.rng, env.device)
    for name in ("geom_size", "geom_pos"):
        field, field0 = env.sim.model_field(name), env.sim.fields.default(name)[geoms]
        field[:, geoms] = _rows(mask, field0 * scale[..., None], field[:, geoms])
    ipos = env.sim.model_field("body_ipos")
    ipos[:, body] = _rows(mask, env.sim.fields.default("body_ipos")[body] * scale, ipos[:, body])
    scale_body_inertia(env, mask, body, scale)
    _set_const(env, mask)


def _body_geoms(env: RlEnv, body: str) -> torch.Tensor:
    m = env.mj_model
    bid = env.index.ids("body", body)[0]
    geoms = [g for g in range(m.ngeom) if int(m.geom_bodyid[g]) == bid]
    if f"{body}_bottom" not in [env.index.names["geom"][g] for g in geoms]:
        raise ValueError(
            f"randomize_container_scale: body {body!r} has no geom {body}_bottom; "
            "build the container with props.add_bowl or props.add_cup"
        )
    return torch.as_tensor(geoms, dtype=torch.long, device=env.device)


def sphere_positions_w(env: RlEnv, spheres: Sequence[str]) -> torch.Tensor:
    """``[num_envs, K, 3]`` the world positions of the K free spheres named ``spheres``, m."""
    adr = env.index.once(
        ("pour_sphere_qpos", tuple(spheres)),
        lambda: torch.as_tensor([object_free_joint(env, s)[0] for s in spheres], device=env.device),
    )
    cols = adr[:, None] + torch.arange(3, device=env.device)
    return env.sim.qpos[:, cols]


def container_top_radius(env: RlEnv, container: dict[str, float | str]) -> torch.Tensor:
    """``[num_envs, 1]`` the inside radius of ``container``'s rim in each world, m (the built
    ``top_radius`` times ``container_scale``: what a camera would measure of the bowl)."""
    return (float(container["top_radius"]) * container_scale(env, str(container["body"])))[:, None]


def sphere_positions_rel_cup(env: RlEnv, spheres: Sequence[str], cup: str) -> torch.Tensor:
    """``[num_envs, 3 K]`` each sphere's position minus the cup's origin, world axes, m, flattened
    sphere by sphere (privileged: the critic's)."""
    return (sphere_positions_w(env, spheres) - object_pos_w(env, cup)[:, None]).flatten(1)


def spheres_inside(env: RlEnv, spheres: Sequence[str], container: dict[str, float | str]) -> torch.Tensor:
    """``[num_envs, K]`` bool: each sphere's centre inside ``container``'s inner volume (the module's
    rule), judged in the container's frame at each world's scale (``container_scale``).
    ``container``: ``Container``'s fields as a dict, the shape as built."""
    c = _container(container)
    pos = sphere_positions_w(env, spheres)
    k = pos.shape[1]
    quat = object_quat_w(env, c.body)
    quat = quat / torch.linalg.vector_norm(quat, dim=1, keepdim=True)
    local = quat_rotate_inverse(
        quat[:, None].expand(-1, k, 4).reshape(-1, 4),
        (pos - object_pos_w(env, c.body)[:, None]).reshape(-1, 3),
    ).view(-1, k, 3)
    # Back to the built container's lengths: a world's container is the built one scaled by s.
    local = local / container_scale(env, c.body)[:, None, None]
    z = local[..., 2]
    share = ((z - c.floor) / (c.height - c.floor)).clamp(0.0, 1.0)
    radius = c.bottom_radius + share * (c.top_radius - c.bottom_radius)
    r_xy = torch.linalg.vector_norm(local[..., :2], dim=-1)
    return (z >= c.floor) & (z <= c.height) & (r_xy <= radius)


def share_inside(env: RlEnv, spheres: Sequence[str], container: dict[str, float | str]) -> torch.Tensor:
    """``[num_envs, 1]`` the share of the spheres inside ``container``, in [0, 1] (an observation a
    camera could give: a count, not positions)."""
    return spheres_inside(env, spheres, container).float().mean(dim=1, keepdim=True)


def share_spilled(
    env: RlEnv,
    spheres: Sequence[str],
    cup: dict[str, float | str],
    bowl: dict[str, float | str],
    table_height: float,
) -> torch.Tensor:
    """``[num_envs]`` the share of the spheres in neither container whose centre is below the bowl's
    rim standing on the table: ``table_height`` (world z, m) plus the bowl's height at its world's scale
    (``container_scale``). Those are on the table or the floor, lost; a sphere still falling from the
    cup towards the bowl is over that height and not yet counted."""
    outside = ~spheres_inside(env, spheres, cup) & ~spheres_inside(env, spheres, bowl)
    rim = table_height + float(bowl["height"]) * container_scale(env, str(bowl["body"]))
    low = sphere_positions_w(env, spheres)[..., 2] < rim[:, None]
    return (outside & low).float().mean(dim=1)


def cup_axis_w(env: RlEnv, cup: str) -> torch.Tensor:
    """``[num_envs, 3]`` the cup's axis (its frame's z, bottom to rim) in the world frame, unit."""
    quat = object_quat_w(env, cup)
    w, x, y, z = (quat / torch.linalg.vector_norm(quat, dim=1, keepdim=True)).unbind(dim=1)
    # The rotation matrix's third column, written out: a constant axis made with torch.tensor would be
    # copied from the host at every call.
    return torch.stack((2.0 * (x * z + w * y), 2.0 * (y * z - w * x), 1.0 - 2.0 * (x * x + y * y)), dim=1)


LIP_BLEND_SIN = math.sin(math.radians(10.0))
"""Below this tilt (as its sine) the lip slides smoothly from the rim's centre to its lowest point."""


def cup_lip_w(env: RlEnv, cup: dict[str, float | str]) -> torch.Tensor:
    """``[num_envs, 3]`` the cup's lip in the world frame, m: the rim's lowest point, where the spheres
    leave a tilted cup. For an upright cup it is the rim's centre; it moves out to the rim as the cup
    tilts, reaching it at 10 degrees (so the reward built on it is continuous)."""
    c = _container(cup)
    axis = cup_axis_w(env, c.body)
    rim_centre = object_pos_w(env, c.body) + c.height * axis
    # Straight down, projected into the rim's plane: its length is the sine of the tilt.
    down = torch.zeros_like(axis)
    down[:, 2].fill_(-1.0)  # fill_: a slice assigned a number would copy it from the host
    toward = down - (down * axis).sum(dim=1, keepdim=True) * axis
    length = torch.linalg.vector_norm(toward, dim=1, keepdim=True)
    return rim_centre + c.top_radius * toward / length.clamp(min=LIP_BLEND_SIN)


def lip_to_bowl_xy(env: RlEnv, cup: dict[str, float | str], bowl: str) -> torch.Tensor:
    """``[num_envs]`` horizontal distance from the cup's lip to the bowl's centre line, m."""
    d = object_pos_w(env, bowl)[:, :2] - cup_lip_w(env, cup)[:, :2]
    return torch.linalg.vector_norm(d, dim=1)


def bowl_pos_rel_cup(env: RlEnv, cup: str, bowl: str) -> torch.Tensor:
    """``[num_envs, 3]`` the bowl's origin (the centre of its underside) minus the cup's origin, in the
    world's axes (those of the arm's base, which stands unturned), m."""
    return object_pos_w(env, bowl) - object_pos_w(env, cup)


def cup_over_bowl_tanh(env: RlEnv, cup: dict[str, float | str], bowl: str, std: float) -> torch.Tensor:
    """``[num_envs]`` ``1 - tanh(d / std)`` in (0, 1], ``d`` the lip's horizontal distance to the bowl's
    centre (``lip_to_bowl_xy``), m; ``std`` in m."""
    return 1.0 - torch.tanh(lip_to_bowl_xy(env, cup, bowl) / std)


def tilt_over_bowl(env: RlEnv, cup: dict[str, float | str], bowl: str, std: float) -> torch.Tensor:
    """``[num_envs]`` the cup's tilt ``(1 - cos(tilt)) / 2`` (0 upright, 0.5 on its side, 1 upside
    down) times ``1 - tanh(d / std)`` of the lip's distance to the bowl: tilting pays over the bowl
    only."""
    tilt = 0.5 * (1.0 - cup_axis_w(env, str(cup["body"]))[:, 2])
    return tilt * cup_over_bowl_tanh(env, cup, bowl, std)


def share_in_bowl(env: RlEnv, spheres: Sequence[str], bowl: dict[str, float | str]) -> torch.Tensor:
    """``[num_envs]`` the share of the spheres in the bowl, in [0, 1] (the reward's level term)."""
    return spheres_inside(env, spheres, bowl).float().mean(dim=1)


def pour_succeeded(
    env: RlEnv, spheres: Sequence[str], bowl: dict[str, float | str], min_share: float
) -> torch.Tensor:
    """``[num_envs]`` bool: at least ``min_share`` of the spheres are in the bowl (the episode's
    success)."""
    return share_in_bowl(env, spheres, bowl) >= min_share - 1e-6


def cup_lost(env: RlEnv, cup: str, ee_site: str, grip_height: float, max_distance: float) -> torch.Tensor:
    """``[num_envs]`` bool: the cup has left the gripper: its grip point (``grip_height`` m up its
    axis from its origin) is more than ``max_distance`` m from the site ``ee_site`` (the TCP)."""
    site = env.index.once(("pour_ee_site", ee_site), lambda: env.index.ids("site", ee_site)[0])
    grip = object_pos_w(env, cup) + grip_height * cup_axis_w(env, cup)
    return torch.linalg.vector_norm(grip - env.sim.site_xpos[:, site], dim=1) > max_distance


# ---------------------------------------------------------------------------- the reset


@dataclasses.dataclass(frozen=True)
class _Grasp:
    cup_pos: torch.Tensor  # [3] world, m
    cup_quat: torch.Tensor  # [4]
    finger_qpos: torch.Tensor  # [2] qpos addresses of the two finger slides
    gripper_actuator: int
    lattice: torch.Tensor  # [K, 3] sphere centres in the cup's frame, m


def _grasp(
    env: RlEnv,
    keyframe: str,
    ee_site: str,
    grip_height: float,
    fingers: Sequence[str],
    gripper_actuator: str,
    lattice: np.ndarray,
) -> _Grasp:
    """The cup's pose in the closed gripper at the keyframe's arm pose, from MuJoCo's C engine."""
    m = env.mj_model
    d = mujoco.MjData(m)
    mujoco.mj_resetDataKeyframe(m, d, m.key(keyframe).id)
    mujoco.mj_kinematics(m, d)
    site = m.site(ee_site).id
    tcp, rot = d.site_xpos[site].copy(), d.site_xmat[site].reshape(3, 3)
    # The TCP's z points from the flange through the pads (down at home), its y along the fingers'
    # travel: the cup's axis is the opposite of the approach, its y the fingers' axis, so that two of
    # its wall's boxes face the pads squarely.
    z_c, y_c = -rot[:, 2], rot[:, 1]
    x_c = np.cross(y_c, z_c)
    cup_rot = np.stack([x_c, y_c, z_c], axis=1)
    dev = env.device
    quat = quat_from_matrix(torch.as_tensor(cup_rot, dtype=torch.float32, device=dev)[None])[0]
    pos = torch.as_tensor(tcp - grip_height * z_c, dtype=torch.float32, device=dev)
    qadr = [int(m.jnt_qposadr[m.joint(f).id]) for f in fingers]
    return _Grasp(
        pos,
        quat,
        torch.as_tensor(qadr, device=dev),
        int(m.actuator(gripper_actuator).id),
        torch.as_tensor(lattice, dtype=torch.float32, device=dev),
    )


def sphere_lattice(count: int, cup_radius: float, floor: float, sphere_radius: float) -> np.ndarray:
    """``[count, 3]`` sphere centres in the cup's frame, m: layers of four on a ring 2 mm in from the
    wall, each layer turned 45 degrees from the one below and ``2 * sphere_radius + 1 mm`` above it,
    the lowest 0.5 mm over the bottom."""
    ring = cup_radius - sphere_radius - 0.002
    step = 2 * sphere_radius + 0.001
    out = []
    for i in range(count):
        layer, j = divmod(i, 4)
        phi = math.pi / 2 * j + math.pi / 4 * (layer % 2)
        z = floor + sphere_radius + 0.0005 + layer * step
        out.append((ring * math.cos(phi), ring * math.sin(phi), z))
    return np.asarray(out)


def reset_cup_in_gripper(
    env: RlEnv,
    mask: torch.Tensor,
    cup: str,
    spheres: Sequence[str],
    lattice: Sequence[Sequence[float]],
    jitter: float,
    keyframe: str,
    ee_site: str,
    grip_height: float,
    fingers: Sequence[str],
    gripper_actuator: str,
    finger_qpos: float,
) -> None:
    """Puts the cup between the closed pads of the arm at the keyframe's pose (the arm must be reset
    there exactly) and the spheres inside it, at rest, in the worlds of ``mask``.

    The cup's origin goes ``grip_height`` m down the gripper's approach from the TCP, its axis up,
    its y along the fingers; both finger slides go to ``finger_qpos`` (m: the pads on the cup's outer
    wall) and the gripper's ctrl to 0 (closed), which nothing else writes, so the gripper stays closed.
    Sphere k goes to ``lattice[k]`` (m, the cup's frame) plus a uniform offset within ``jitter`` m in
    x and y."""
    grasp = env.index.once(
        ("pour_grasp", cup, keyframe, grip_height),
        lambda: _grasp(env, keyframe, ee_site, grip_height, fingers, gripper_actuator, np.asarray(lattice)),
    )
    n, k, dev = env.num_envs, len(spheres), env.device
    cup_pos, cup_quat = grasp.cup_pos.expand(n, 3), grasp.cup_quat.expand(n, 4)
    place_object_at_rest(env, mask, cup, cup_pos, cup_quat)
    offsets = uniform(-jitter, jitter, (n, k, 3), env.rng, dev)
    offsets[..., 2].zero_()
    local = grasp.lattice.expand(n, k, 3) + offsets
    turned = quat_rotate(cup_quat[:, None].expand(n, k, 4).reshape(-1, 4), local.reshape(-1, 3))
    world = cup_pos[:, None] + turned.view(n, k, 3)
    unit = torch.zeros(n, 4, device=dev)
    unit[:, 0].fill_(1.0)
    for i, sphere in enumerate(spheres):
        place_object_at_rest(env, mask, sphere, world[:, i], unit)
    sim = env.sim
    held = torch.full((n, len(grasp.finger_qpos)), finger_qpos, device=dev)
    sim.qpos[:, grasp.finger_qpos] = torch.where(mask[:, None], held, sim.qpos[:, grasp.finger_qpos])
    sim.ctrl[:, grasp.gripper_actuator] = torch.where(mask, 0.0, sim.ctrl[:, grasp.gripper_actuator])


__all__ = [
    "Container",
    "bowl_pos_rel_cup",
    "container_scale",
    "container_top_radius",
    "cup_axis_w",
    "cup_lip_w",
    "cup_lost",
    "cup_over_bowl_tanh",
    "lip_to_bowl_xy",
    "pour_succeeded",
    "randomize_container_scale",
    "reset_cup_in_gripper",
    "share_in_bowl",
    "share_inside",
    "share_spilled",
    "sphere_lattice",
    "sphere_positions_rel_cup",
    "sphere_positions_w",
    "spheres_inside",
    "tilt_over_bowl",
]
