"""A scene: a robot, ground, objects, lights and cameras composed into one ``MjSpec``.

The robot's own spec is the base (its options, defaults and names stay as they are, so a
``RobotCfg``'s names keep working); the ground, objects, lights and cameras are added to it.
Objects may vary between worlds: ``Scene.vary_objects`` draws each object's mass, size and friction
per world into the simulation's per-world model fields, and an object with several ``shapes`` takes
one of them per world (``mdp.randomize_object_shape``; ``warplab.assets.object_shapes`` says how).

Example::

    scene = Scene(
        robot=HUMANOID_ROBOT_CFG,                      # a RobotCfg, an MjSpec, or a file (MJCF, URDF, USD)
        terrain="flat",                                # or a TerrainCfg, a HeightfieldCfg, or None
        objects=(ObjectCfg("crate", "box", size=(0.2, 0.2, 0.2), pos=(1, 0, 0.2), mass=5.0,
                           mass_range=(2.0, 8.0), size_scale_range=(0.8, 1.2)),),
        cameras=(CameraCfg("side", pos=(0, -3, 1), lookat=(0, 0, 0.6)),),
    )
    sim = Simulation(scene.build(), num_worlds=4096)
    scene.vary_objects(sim, seed=0)                    # each world's crate has its own mass and size
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
from collections.abc import Callable

import mujoco
import numpy as np

from warplab.assets.importers import load_robot
from warplab.assets.importers.files import DEFAULT_LIMITS, ImportLimits, check_mesh
from warplab.assets.object_shapes import add_shape_set, shape_geom_name
from warplab.assets.robot_cfg import RobotCfg, build_robot_spec
from warplab.assets.terrain import add_checker_material, add_flat_ground, add_sky_and_lights
from warplab.assets.terrain_generator import TerrainCfg, add_terrain

_SHAPES = {
    "box": (mujoco.mjtGeom.mjGEOM_BOX, 3),
    "sphere": (mujoco.mjtGeom.mjGEOM_SPHERE, 1),
    "capsule": (mujoco.mjtGeom.mjGEOM_CAPSULE, 2),
    "cylinder": (mujoco.mjtGeom.mjGEOM_CYLINDER, 2),
    "ellipsoid": (mujoco.mjtGeom.mjGEOM_ELLIPSOID, 3),
    "mesh": (mujoco.mjtGeom.mjGEOM_MESH, 0),
}


@dataclasses.dataclass
class ObjectCfg:
    """A rigid object: one primitive or mesh, free to move (or fixed), with its own mass and friction.

    An object may also take a different primitive shape in each world (a box here, a cylinder
    there): ``shapes`` lists them and ``shape_size_ranges`` their sizes, for example::

        ObjectCfg("part", shapes=("box", "sphere", "cylinder", "capsule"), mass=0.1,
                  shape_size_ranges={"box": ((0.02, 0.04),) * 3, "sphere": ((0.02, 0.035),),
                                     "cylinder": ((0.015, 0.03), (0.02, 0.05)),
                                     "capsule": ((0.015, 0.025), (0.01, 0.04))})

    with the event ``mdp.randomize_object_shape(object="part")`` drawing each world's shape and size.
    """

    name: str
    """Name of the object's body and geom (its geoms are ``<name>_<shape>`` when it has ``shapes``)."""
    shape: str = "box"
    """``box``, ``sphere``, ``capsule``, ``cylinder``, ``ellipsoid`` or ``mesh``."""
    size: tuple[float, ...] = (0.05, 0.05, 0.05)
    """MuJoCo's geom size, m: half extents of a box or ellipsoid, the radius of a sphere, the radius
    and half length of a capsule or cylinder. Unused by a mesh."""
    mesh_file: str | None = None
    """The mesh (STL, OBJ, MSH) of a ``mesh`` object."""
    mesh_scale: tuple[float, float, float] = (1.0, 1.0, 1.0)
    """Scale of the mesh's vertices (0.001 for a mesh in millimetres)."""
    pos: tuple[float, float, float] = (0.0, 0.0, 0.0)
    """Initial position in the world, m."""
    quat: tuple[float, float, float, float] = (1.0, 0.0, 0.0, 0.0)
    """Initial orientation (w, x, y, z)."""
    mass: float = 1.0
    """Mass, kg; the inertia is that of a uniform solid of this shape."""
    friction: float = 1.0
    """Sliding friction (a contact uses the larger of its two geoms')."""
    fixed: bool = False
    """Fixed in the world (a table, a wall) rather than on a free joint."""
    rgba: tuple[float, float, float, float] = (0.80, 0.55, 0.30, 1.0)
    mass_range: tuple[float, float] | None = None
    """Per-world mass drawn uniformly from this range, kg (``Scene.vary_objects``); None: ``mass``."""
    size_scale_range: tuple[float, float] | None = None
    """Per-world factor on every dimension of a primitive (mass kept); None: ``size``."""
    friction_range: tuple[float, float] | None = None
    """Per-world sliding friction; None: ``friction``."""
    shapes: tuple[str, ...] = ()
    """Shapes the object may take, one per world, two or more of ``box``, ``sphere``, ``capsule``,
    ``cylinder``, ``ellipsoid`` (``shape`` and ``size`` are then unused). The body holds one geom of
    each, named ``<name>_<shape>``; the compiled model's object is the first, the others are parked
    (no contact, no colour, no mass; ``warplab.assets.object_shapes``). Every shape has ``mass``.
    Empty: one geom of ``shape``, named ``name``."""
    shape_size_ranges: dict[str, tuple[tuple[float, float], ...]] = dataclasses.field(default_factory=dict)
    """For each of ``shapes``, a (low, high) range per dimension of MuJoCo's size, m: three for a box
    or ellipsoid (half extents), one for a sphere (radius), two for a capsule or cylinder (radius,
    half length); low == high fixes a dimension. The compiled geom takes the middle of each range,
    ``mdp.randomize_object_shape`` a uniform draw per dimension and world."""


@dataclasses.dataclass
class HeightfieldCfg:
    """Ground from a grid of heights (a scan, a map): ``heights[i, j]`` at y row ``i``, x column ``j``."""

    heights: np.ndarray
    """[rows, cols] heights, m."""
    size_x: float
    """Half length of the field along x, m (it spans [-size_x, size_x])."""
    size_y: float
    """Half width along y, m."""
    base_thickness: float = 0.5
    """Depth of the solid under the lowest point, m."""
    friction: float = 1.0


@dataclasses.dataclass
class LightCfg:
    name: str
    pos: tuple[float, float, float] = (0.0, 0.0, 3.0)
    dir: tuple[float, float, float] = (0.0, 0.0, -1.0)
    directional: bool = False
    diffuse: tuple[float, float, float] = (0.7, 0.7, 0.7)
    castshadow: bool = True


@dataclasses.dataclass
class CameraCfg:
    name: str
    pos: tuple[float, float, float]
    """Position in the frame of ``body`` (the world when None), m."""
    lookat: tuple[float, float, float] | None = None
    """A point the camera looks at, in the same frame; None: ``xyaxes``."""
    xyaxes: tuple[float, ...] = (1.0, 0.0, 0.0, 0.0, 0.0, 1.0)
    """The camera's right and up directions (MuJoCo's ``xyaxes``), when ``lookat`` is None."""
    fovy: float = 45.0
    """Vertical field of view, degrees."""
    body: str | None = None
    """A body that carries the camera (a head camera); None: fixed in the world."""


@dataclasses.dataclass
class Scene:
    """What to put in the scene; ``build()`` makes the ``MjSpec``."""

    robot: RobotCfg | mujoco.MjSpec | str | os.PathLike | None = None
    """A ``RobotCfg`` (with its actuators and home pose), an ``MjSpec``, or a robot file for
    ``load_robot``; None: an empty scene."""
    terrain: str | TerrainCfg | HeightfieldCfg | None = "flat"
    """``"flat"`` (a floor at z = 0), a generated ``TerrainCfg``, a ``HeightfieldCfg``, or None."""
    objects: tuple[ObjectCfg, ...] = ()
    props: tuple[Callable[[mujoco.MjSpec], object], ...] = ()
    """Functions that add a prop to the spec, called in order after the objects: the builders of
    ``warplab.assets.props`` with their pose and sizes bound, e.g.
    ``functools.partial(add_drawer_cabinet, pos=(0.8, 0.0, 0.0), travel=0.25)``."""
    lights: tuple[LightCfg, ...] = ()
    """Lights besides the sun and fill light that ground adds."""
    cameras: tuple[CameraCfg, ...] = ()
    limits: ImportLimits = DEFAULT_LIMITS
    """Size limits of robot and mesh files."""

    def build(self) -> mujoco.MjSpec:
        """The scene's spec. Raises ``ValueError`` naming an object, light or camera at fault."""
        spec = _robot_spec(self.robot, self.limits)
        if isinstance(self.terrain, str) and self.terrain != "flat":
            raise ValueError(f"terrain {self.terrain!r}: use 'flat', a TerrainCfg, a HeightfieldCfg or None")
        if self.terrain == "flat":
            add_flat_ground(spec)
        elif isinstance(self.terrain, TerrainCfg):
            add_sky_and_lights(spec)
            add_terrain(spec, self.terrain)
        elif isinstance(self.terrain, HeightfieldCfg):
            add_sky_and_lights(spec)
            _add_heightfield(spec, self.terrain)
        for obj in self.objects:
            _add_object(spec, obj, self.limits)
        for add_prop in self.props:
            add_prop(spec)
        for light in self.lights:
            spec.worldbody.add_light(
                name=light.name,
                pos=list(light.pos),
                dir=list(light.dir),
                type=mujoco.mjtLightType.mjLIGHT_DIRECTIONAL
                if light.directional
                else mujoco.mjtLightType.mjLIGHT_SPOT,
                diffuse=list(light.diffuse),
                castshadow=light.castshadow,
            )
        for camera in self.cameras:
            _add_camera(spec, camera)
        return spec

    def vary_objects(self, sim, seed: int | None = None) -> dict[str, dict]:
        """Draws each object's mass, size and friction per world from its ranges into ``sim``.

        Mass and size change the inertia with them (a uniform solid: inertia scales with the mass and
        the size squared); derived constants are recomputed (``sim.set_const()``). Call it once the
        simulation exists, before stepping (at startup, or again at a reset of all worlds).

        Args:
          sim: a ``warplab.sim.Simulation`` of this scene's spec.
          seed: seeds the draws (None: torch's global generator).

        Returns:
          ``{object: {"mass": [N] kg, "size_scale": [N], "friction": [N]}}`` for the values drawn.
        """
        import torch  # here, so that building scenes needs no torch (the deployment runtime has none)

        generator = torch.Generator(device=sim.device)
        if seed is not None:
            generator.manual_seed(seed)
        model, n, drawn = sim.mj_model, sim.num_worlds, {}

        def uniform(bounds):
            low, high = bounds
            return low + (high - low) * torch.rand(n, generator=generator, device=sim.device)

        changed_inertia = False
        for obj in self.objects:
            body = model.body(obj.name).id
            geoms = [model.geom(n).id for n in _geom_names(obj)]
            values = {}
            if obj.mass_range is not None:
                values["mass"] = uniform(obj.mass_range)
            if obj.size_scale_range is not None:
                if obj.shape == "mesh":
                    raise ValueError(
                        f"object {obj.name!r}: size_scale_range applies to primitives, not meshes"
                    )
                values["size_scale"] = uniform(obj.size_scale_range)
            if obj.friction_range is not None:
                values["friction"] = uniform(obj.friction_range)
                sim.model_field("geom_friction")[:, geoms, 0] = values["friction"][:, None]
            if "mass" in values or "size_scale" in values:
                mass0 = float(model.body_mass[body])
                mass = values.get("mass", torch.full((n,), mass0, device=sim.device))
                scale = values.get("size_scale", torch.ones(n, device=sim.device))
                inertia0 = torch.as_tensor(model.body_inertia[body], dtype=torch.float32, device=sim.device)
                sim.model_field("body_mass")[:, body] = mass
                sim.model_field("body_inertia")[:, body] = inertia0 * (mass / mass0 * scale**2)[:, None]
                if "size_scale" in values:
                    size0 = torch.as_tensor(model.geom_size[geoms], dtype=torch.float32, device=sim.device)
                    sim.model_field("geom_size")[:, geoms] = size0 * scale[:, None, None]
                changed_inertia = True
            if values:
                drawn[obj.name] = values
        if changed_inertia:
            sim.set_const()
        return drawn


def _geom_names(obj: ObjectCfg) -> list[str]:
    """Names of the object's geoms: its one geom, or one per shape."""
    return [shape_geom_name(obj.name, s) for s in obj.shapes] if obj.shapes else [obj.name]


def _robot_spec(robot, limits: ImportLimits) -> mujoco.MjSpec:
    if robot is None:
        return mujoco.MjSpec()
    if isinstance(robot, RobotCfg):
        return build_robot_spec(robot)
    if isinstance(robot, mujoco.MjSpec):
        return robot.copy()
    return load_robot(robot, limits=limits)


def _add_heightfield(spec: mujoco.MjSpec, cfg: HeightfieldCfg) -> None:
    heights = np.asarray(cfg.heights, dtype=np.float64)
    if heights.ndim != 2 or min(heights.shape) < 2 or not np.all(np.isfinite(heights)):
        raise ValueError(
            f"HeightfieldCfg.heights must be a finite [rows, cols] array of at least 2 x 2, got shape {heights.shape}"
        )
    low, span = float(heights.min()), float(np.ptp(heights))
    # MuJoCo scales samples in [0, 1] by size[2]: normalized samples over the lowest point keep heights exact.
    spec.add_hfield(
        name="heightfield",
        nrow=heights.shape[0],
        ncol=heights.shape[1],
        size=[cfg.size_x, cfg.size_y, span if span > 0 else 1.0, cfg.base_thickness],
        userdata=((heights - low) / span if span > 0 else np.zeros_like(heights))
        .astype(np.float32)
        .ravel()
        .tolist(),
    )
    add_checker_material(spec, "heightfield", rgb1=(0.30, 0.34, 0.38), rgb2=(0.22, 0.25, 0.29))
    spec.worldbody.add_geom(
        name="heightfield",
        type=mujoco.mjtGeom.mjGEOM_HFIELD,
        hfieldname="heightfield",
        pos=[0.0, 0.0, low],
        material="heightfield",
        contype=1,
        conaffinity=0,
        friction=[cfg.friction, 0.005, 0.0001],
    )


def _add_object(spec: mujoco.MjSpec, obj: ObjectCfg, limits: ImportLimits) -> None:
    if obj.shapes:
        _add_multi_shape_object(spec, obj)
        return
    if obj.shape_size_ranges:
        raise ValueError(f"object {obj.name!r}: shape_size_ranges needs shapes (the shapes it may take)")
    if obj.shape not in _SHAPES:
        raise ValueError(f"object {obj.name!r}: shape {obj.shape!r} is not one of {sorted(_SHAPES)}")
    kind, dims = _SHAPES[obj.shape]
    if dims and (len(obj.size) < dims or any(s <= 0 for s in obj.size[:dims])):
        raise ValueError(f"object {obj.name!r}: a {obj.shape} needs {dims} positive sizes, got {obj.size}")
    body = _add_object_body(spec, obj)
    geom = body.add_geom(name=obj.name, type=kind, mass=obj.mass, rgba=list(obj.rgba), condim=3)
    geom.friction = [obj.friction, 0.005, 0.0001]
    if obj.shape == "mesh":
        if obj.mesh_file is None:
            raise ValueError(f"object {obj.name!r}: a mesh object needs mesh_file")
        path = pathlib.Path(obj.mesh_file).absolute()
        check_mesh(path, limits, path.parent, obj.mesh_file)
        spec.add_mesh(name=obj.name, file=str(path), scale=list(obj.mesh_scale))
        geom.meshname = obj.name
    else:
        geom.size = list(obj.size[:dims]) + [0.0] * (3 - dims)


def _add_object_body(spec: mujoco.MjSpec, obj: ObjectCfg) -> mujoco.MjsBody:
    if obj.mass <= 0:
        raise ValueError(f"object {obj.name!r}: mass {obj.mass} kg must be positive")
    for field in ("mass_range", "size_scale_range", "friction_range"):
        bounds = getattr(obj, field)
        if bounds is not None and not 0 < bounds[0] <= bounds[1]:
            raise ValueError(
                f"object {obj.name!r}: {field} {bounds} must be (low, high) with 0 < low <= high"
            )
    body = spec.worldbody.add_body(name=obj.name, pos=list(obj.pos), quat=list(obj.quat))
    if not obj.fixed:
        body.add_freejoint(name=obj.name)
    return body


def _add_multi_shape_object(spec: mujoco.MjSpec, obj: ObjectCfg) -> None:
    if obj.size_scale_range is not None:
        raise ValueError(
            f"object {obj.name!r}: size_scale_range applies to one shape; an object with shapes draws "
            "its sizes from shape_size_ranges (mdp.randomize_object_shape)"
        )
    body = _add_object_body(spec, obj)
    add_shape_set(spec, body, obj.name, obj.shapes, obj.shape_size_ranges, obj.mass, obj.rgba, obj.friction)


def _add_camera(spec: mujoco.MjSpec, camera: CameraCfg) -> None:
    parent = spec.worldbody if camera.body is None else spec.body(camera.body)
    if parent is None:
        raise ValueError(f"camera {camera.name!r}: body {camera.body!r} is not in the scene")
    xyaxes = list(camera.xyaxes)
    if camera.lookat is not None:
        forward = np.asarray(camera.lookat, float) - np.asarray(camera.pos, float)
        if np.linalg.norm(forward) == 0:
            raise ValueError(f"camera {camera.name!r}: lookat equals pos")
        forward /= np.linalg.norm(forward)
        right = np.cross(forward, [0.0, 0.0, 1.0])
        right = right / np.linalg.norm(right) if np.linalg.norm(right) > 1e-9 else np.array([1.0, 0, 0])
        xyaxes = [*right, *np.cross(right, forward)]
    camera_spec = parent.add_camera(name=camera.name, pos=list(camera.pos), fovy=camera.fovy)
    camera_spec.alt.type = mujoco.mjtOrientation.mjORIENTATION_XYAXES
    camera_spec.alt.xyaxes = xyaxes
