"""What is in a robot or scene file, and what in it commonly breaks a simulation.

``inspect_model`` lists bodies, joints, actuators, sensors, masses and contact pairs, and warns about:

- ``tiny-mass``: a moving body (one with joints) of zero or tiny mass or inertia; the mass matrix
  becomes ill-conditioned and the solver diverges or the body jitters.
- ``no-collision``: a moving body without colliding geometry (it passes through the floor), or a
  model without any.
- ``self-collision``: two parts of one robot overlapping in the default pose (the ``home``
  keyframe, else ``qpos0``); the contact pushes them apart at the first step.
- ``unlimited-joint``: a hinge or slide joint without limits; a policy can wind it past anything
  the real joint allows.

``warplab inspect ROBOT`` prints the report for any file ``load_robot`` reads, for warplab's own robots
by name (``BUILTIN_ROBOTS``: ``arm``, ``cartpole``, ``hand``, ``humanoid``), and for MuJoCo Menagerie robots by name
where the Menagerie cache already holds them (nothing is downloaded).
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import pathlib
import re
from collections.abc import Callable

import mujoco
import numpy as np

from warplab.assets.importers import AssetError, file_format, load_robot
from warplab.assets.importers.files import mujoco_reason

WARNING_KINDS = ("tiny-mass", "no-collision", "self-collision", "unlimited-joint")


@dataclasses.dataclass(frozen=True)
class InspectWarning:
    kind: str
    """One of ``WARNING_KINDS``."""
    message: str


@dataclasses.dataclass
class InspectReport:
    """The inventory of a model and its warnings; ``text()`` formats it for a terminal."""

    title: str
    sections: dict[str, list[str]]
    warnings: list[InspectWarning]

    def kinds(self) -> set[str]:
        return {w.kind for w in self.warnings}

    def text(self) -> str:
        lines = [self.title]
        for name, rows in self.sections.items():
            lines += ["", f"{name}:"] + [f"  {row}" for row in rows or ["(none)"]]
        lines += ["", f"warnings ({len(self.warnings)}):"]
        lines += [f"  [{w.kind}] {w.message}" for w in self.warnings] or ["  (none)"]
        return "\n".join(lines)


def _name(model: mujoco.MjModel, kind: mujoco.mjtObj, i: int) -> str:
    return mujoco.mj_id2name(model, kind, i) or f"#{i}"


def _colliding(model: mujoco.MjModel, g: int) -> bool:
    return bool(model.geom_contype[g] or model.geom_conaffinity[g])


def inspect_model(
    model: mujoco.MjModel | mujoco.MjSpec,
    *,
    min_mass: float = 1e-3,
    min_inertia: float = 1e-8,
    title: str | None = None,
) -> InspectReport:
    """The report of a compiled model (or a spec, compiled here).

    Args:
      min_mass: a moving body lighter than this (kg) is ``tiny-mass``.
      min_inertia: a principal inertia of a moving body below this (kg·m²) is ``tiny-mass``.
    """
    m = model.compile() if isinstance(model, mujoco.MjSpec) else model
    B, J, A, S = (
        mujoco.mjtObj.mjOBJ_BODY,
        mujoco.mjtObj.mjOBJ_JOINT,
        mujoco.mjtObj.mjOBJ_ACTUATOR,
        mujoco.mjtObj.mjOBJ_SENSOR,
    )
    warnings: list[InspectWarning] = []
    sections: dict[str, list[str]] = {
        "bodies": [],
        "joints": [],
        "actuators": [],
        "sensors": [],
        "contacts": [],
    }
    for b in range(1, m.nbody):
        geoms = range(m.body_geomadr[b], m.body_geomadr[b] + m.body_geomnum[b])
        colliding = sum(_colliding(m, g) for g in geoms)
        sections["bodies"].append(
            f"{_name(m, B, b)}  parent={_name(m, B, m.body_parentid[b]) if b else '-'}  mass={m.body_mass[b]:.4g} kg  "
            f"inertia={np.array2string(m.body_inertia[b], precision=3)} kg·m²  joints={m.body_jntnum[b]}  "
            f"geoms={m.body_geomnum[b]} ({colliding} colliding)"
        )
    total = float(m.body_mass[1:].sum())
    sections["bodies"].append(f"total mass {total:.4g} kg")
    for j in range(m.njnt):
        kind = mujoco.mjtJoint(m.jnt_type[j]).name[len("mjJNT_") :].lower()
        limit = (
            f"range=[{m.jnt_range[j][0]:.4g}, {m.jnt_range[j][1]:.4g}]" if m.jnt_limited[j] else "unlimited"
        )
        dof = m.jnt_dofadr[j]
        sections["joints"].append(
            f"{_name(m, J, j)}  {kind}  body={_name(m, B, m.jnt_bodyid[j])}  {limit}  "
            f"damping={m.dof_damping[dof]:.4g}  armature={m.dof_armature[dof]:.4g}"
        )
    for a in range(m.nu):
        target = m.actuator_trnid[a, 0]
        on = (
            _name(m, J, target)
            if m.actuator_trntype[a] == mujoco.mjtTrn.mjTRN_JOINT
            else f"trn {m.actuator_trntype[a]}"
        )
        kind = "position" if m.actuator_biastype[a] == mujoco.mjtBias.mjBIAS_AFFINE else "motor"
        force = (
            f"force=[{m.actuator_forcerange[a][0]:.4g}, {m.actuator_forcerange[a][1]:.4g}]"
            if m.actuator_forcelimited[a]
            else "force unlimited"
        )
        sections["actuators"].append(
            f"{_name(m, A, a)}  {kind}  joint={on}  gain={m.actuator_gainprm[a, 0]:.4g}  {force}"
        )
    for s in range(m.nsensor):
        sections["sensors"].append(
            f"{_name(m, S, s)}  {mujoco.mjtSensor(m.sensor_type[s]).name[len('mjSENS_') :].lower()}  dim={m.sensor_dim[s]}"
        )
    warnings += _mass_warnings(m, min_mass, min_inertia)
    warnings += _collision_warnings(m)
    sections["contacts"] += _contact_rows(m, warnings)
    for j in range(m.njnt):
        if (
            int(m.jnt_type[j]) in (mujoco.mjtJoint.mjJNT_HINGE, mujoco.mjtJoint.mjJNT_SLIDE)
            and not m.jnt_limited[j]
        ):
            warnings.append(
                InspectWarning(
                    "unlimited-joint",
                    f"joint {_name(m, J, j)!r} has no range; give it the real joint's limits",
                )
            )
    head = title or f"model {bytes(m.names).split(bytes(1))[0].decode()!r}"
    summary = (
        f"{head}: {m.nbody - 1} bodies, {m.njnt} joints ({m.nv} dofs), {m.nu} actuators, "
        f"{m.nsensor} sensors, total mass {total:.4g} kg"
    )
    return InspectReport(summary, sections, warnings)


def _mass_warnings(m: mujoco.MjModel, min_mass: float, min_inertia: float) -> list[InspectWarning]:
    out = []
    for b in range(1, m.nbody):
        if m.body_jntnum[b] == 0:
            continue  # welded to its parent: its mass adds to the parent's, zero is harmless
        name = _name(m, mujoco.mjtObj.mjOBJ_BODY, b)
        if m.body_mass[b] < min_mass:
            out.append(
                InspectWarning(
                    "tiny-mass",
                    f"body {name!r} moves on a joint with mass {m.body_mass[b]:.3g} kg "
                    f"(< {min_mass:g}); give it its real mass, or weld it to its parent",
                )
            )
        elif m.body_inertia[b].min() < min_inertia:
            out.append(
                InspectWarning(
                    "tiny-mass",
                    f"body {name!r} has a principal inertia of {m.body_inertia[b].min():.3g} "
                    f"kg·m² (< {min_inertia:g}); check its <inertial>",
                )
            )
    return out


def _collision_warnings(m: mujoco.MjModel) -> list[InspectWarning]:
    if not any(_colliding(m, g) for g in range(m.ngeom)):
        return [
            InspectWarning(
                "no-collision",
                "no geom collides (every contype and conaffinity is 0): the model "
                "falls through any ground; keep the collision geometry",
            )
        ]
    # A link may lack collision geometry when a link beyond it has some (motor housings between
    # the joints of a hip); a chain that ends without any passes through the ground.
    ancestors: dict[int, set[int]] = {b: set() for b in range(m.nbody)}
    for b in range(1, m.nbody):
        ancestors[b] = ancestors[m.body_parentid[b]] | {m.body_parentid[b]}
    covered = {
        b
        for g in range(m.ngeom)
        if _colliding(m, g)
        for b in ancestors[m.geom_bodyid[g]] | {m.geom_bodyid[g]}
    }
    out = []
    for b in range(1, m.nbody):
        if m.body_jntnum[b] and b not in covered:
            name = _name(m, mujoco.mjtObj.mjOBJ_BODY, b)
            out.append(
                InspectWarning(
                    "no-collision",
                    f"body {name!r} moves, and neither it nor a body beyond it "
                    "has a colliding geom: it passes through the ground and other bodies",
                )
            )
    return out


def _candidate_pairs(m: mujoco.MjModel) -> int:
    body, parent = m.geom_bodyid, m.body_parentid[m.body_weldid[m.geom_bodyid]]
    weld = m.body_weldid[body]
    a, b = np.triu_indices(m.ngeom, k=1)
    bits = ((m.geom_contype[a] & m.geom_conaffinity[b]) | (m.geom_contype[b] & m.geom_conaffinity[a])) != 0
    # MuJoCo skips geoms of one (welded) body, and of a body and its parent (unless both are the world).
    same = weld[a] == weld[b]
    family = ((parent[a] == weld[b]) | (parent[b] == weld[a])) & (weld[a] != 0) & (weld[b] != 0)
    return int(np.sum(bits & ~same & ~family))


def _contact_rows(m: mujoco.MjModel, warnings: list[InspectWarning]) -> list[str]:
    G, B = mujoco.mjtObj.mjOBJ_GEOM, mujoco.mjtObj.mjOBJ_BODY
    rows = [
        f"colliding geoms: {sum(_colliding(m, g) for g in range(m.ngeom))} of {m.ngeom}",
        f"explicit pairs: {m.npair}, excluded body pairs: {m.nexclude}",
    ]
    rows.append(
        f"geom pairs that may touch (contype/conaffinity, not a body and its parent): {_candidate_pairs(m)}"
    )
    for p in range(m.npair):
        rows.append(f"  pair {_name(m, G, m.pair_geom1[p])} - {_name(m, G, m.pair_geom2[p])}")
    data = mujoco.MjData(m)
    pose = (
        "home keyframe" if m.nkey and mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_KEY, "home") >= 0 else "qpos0"
    )
    if pose == "home keyframe":
        mujoco.mj_resetDataKeyframe(m, data, mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_KEY, "home"))
    mujoco.mj_forward(m, data)
    rows.append(f"contacts in the default pose ({pose}): {data.ncon}")
    for i in range(data.ncon):
        (g1, g2), dist = data.contact.geom[i], float(data.contact.dist[i])
        b1, b2 = m.geom_bodyid[g1], m.geom_bodyid[g2]
        rows.append(
            f"  {_name(m, G, g1)} ({_name(m, B, b1)}) - {_name(m, G, g2)} ({_name(m, B, b2)})  depth={-dist:.4g} m"
        )
        same_robot = b1 and b2 and m.body_rootid[b1] == m.body_rootid[b2]
        if same_robot and dist < 0:
            warnings.append(
                InspectWarning(
                    "self-collision",
                    f"geoms {_name(m, G, g1)!r} (body {_name(m, B, b1)!r}) and {_name(m, G, g2)!r} (body "
                    f"{_name(m, B, b2)!r}) overlap by {-dist * 1000:.3g} mm in the default pose ({pose}); shrink "
                    "one, or exclude the pair (<contact><exclude body1=... body2=...>)",
                )
            )
    return rows


def inspect_file(path: str | os.PathLike, **options) -> InspectReport:
    """The report of any file ``load_robot`` reads; ``options`` go to ``load_robot``.

    Raises:
      AssetError: the file cannot be read or compiled (naming the file and MuJoCo's reason).
    """
    spec = load_robot(path, **options)
    return inspect_model(_compile(spec, path), title=f"{path} ({file_format(path).upper()})")


def _compile(spec: mujoco.MjSpec, source) -> mujoco.MjModel:
    try:
        return spec.compile()
    except ValueError as e:
        raise AssetError(f"{source}: MuJoCo cannot compile this model: {mujoco_reason(e)}") from None


def _humanoid() -> mujoco.MjSpec:
    from warplab.assets.robot_cfg import build_robot_spec
    from warplab.assets.robots.humanoid import HUMANOID_ROBOT_CFG

    return build_robot_spec(HUMANOID_ROBOT_CFG)


def _cartpole() -> mujoco.MjSpec:
    from warplab.assets.robots.cartpole import cartpole_spec

    return cartpole_spec()


def _arm() -> mujoco.MjSpec:
    from warplab.assets.robot_cfg import build_robot_spec
    from warplab.assets.robots.arm import ARM_ROBOT_CFG

    return build_robot_spec(ARM_ROBOT_CFG)


def _hand() -> mujoco.MjSpec:
    from warplab.assets.robot_cfg import build_robot_spec
    from warplab.assets.robots.hand import HAND_ROBOT_CFG

    return build_robot_spec(HAND_ROBOT_CFG)


BUILTIN_ROBOTS: dict[str, Callable[[], mujoco.MjSpec]] = {
    "arm": _arm,
    "cartpole": _cartpole,
    "hand": _hand,
    "humanoid": _humanoid,
}
"""warplab's own robots by name, each built as its tasks build it (the humanoid, the hand and the arm
through their ``RobotCfg``, with actuators and the ``home`` keyframe)."""

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-]*")


def _builtin_key(name: str) -> str:
    return name.lower().replace("-", "").replace("_", "")


def inspect_robot(
    robot: str | os.PathLike,
    *,
    asset_root: str | os.PathLike | None = None,
    floating_base: bool = False,
    package_paths=(),
) -> InspectReport:
    """The report of a robot file, of one of warplab's robots by name, or of a cached Menagerie robot.

    ``robot`` is a file when such a file exists or when it looks like a path (a suffix, a folder);
    otherwise a name: ``BUILTIN_ROBOTS`` (``cart-pole`` and ``cart_pole`` are ``cartpole``), then
    MuJoCo Menagerie's names, read from its cache only.

    Args:
      asset_root, floating_base, package_paths: ``load_robot``'s; the last two for URDF files only.

    Raises:
      FileNotFoundError: a path that does not exist.
      AssetError: a file that cannot be read or compiled; a Menagerie robot not in the cache.
      ValueError: an unknown name (listing the names taken); URDF options for another kind of robot.
    """
    text = os.fspath(robot)
    path = pathlib.Path(text)
    urdf_options = floating_base or bool(package_paths)
    if path.is_dir():
        raise AssetError(f"{path}: a folder; give the robot file in it (.xml, .urdf, .usd...)")
    if path.exists() or not _NAME.fullmatch(text):
        if urdf_options and file_format(path) != "urdf":
            raise ValueError(f"{path}: --floating-base and --package-path apply to URDF files only")
        options = {"floating_base": floating_base, "package_paths": package_paths} if urdf_options else {}
        return inspect_file(path, asset_root=asset_root, **options)
    if urdf_options or asset_root is not None:
        raise ValueError(
            f"{text!r}: --floating-base, --package-path and --asset-root apply to robot files only"
        )
    key = _builtin_key(text)
    if key in BUILTIN_ROBOTS:
        return inspect_model(_compile(BUILTIN_ROBOTS[key](), key), title=f"{key} (warplab's robot)")
    xml = _menagerie_xml(text)
    return inspect_model(_compile(load_robot(xml), xml), title=f"{text} (MuJoCo Menagerie: {xml})")


def _menagerie_xml(name: str) -> pathlib.Path:
    """The cached XML of a Menagerie robot; a ValueError listing the names taken when there is none."""
    from warplab.assets import menagerie

    names = sorted(BUILTIN_ROBOTS)
    try:
        menagerie_names = menagerie.menagerie_names()
    except menagerie.MenagerieNotInstalledError:
        menagerie_names = None
    if menagerie_names is not None and name in menagerie_names:
        try:
            return menagerie.menagerie_xml(name, download=False)
        except menagerie.MenagerieNotCachedError as e:
            raise AssetError(str(e)) from None
    close = difflib.get_close_matches(name, names + (menagerie_names or []), n=3, cutoff=0.6)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    other = (
        "a MuJoCo Menagerie robot's name (menagerie_names() lists them; only robots in its cache are read)"
        if menagerie_names is not None
        else 'a MuJoCo Menagerie robot\'s name, with pip install "warplab[menagerie]"'
    )
    raise ValueError(
        f"{name!r} is no file and no robot warplab knows.{hint} Give one of warplab's robots "
        f"({', '.join(names)}), {other}, or the path of a robot file (MJCF .xml, URDF .urdf, USD .usd/.usda/.usdc/.usdz)"
    )
