"""Scene composition, and objects that differ per world: each world steps like MuJoCo's C engine
given that world's object (mass, size, friction edited into a copy of the model)."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest
import torch
from importer_files import CUBE_OBJ  # noqa: I001 (tests/assets is on the path)

from warplab.assets.object_shapes import PARKED_MARGIN
from warplab.assets.robot_cfg import ActuatorGroupCfg, RobotCfg
from warplab.assets.scene import CameraCfg, HeightfieldCfg, LightCfg, ObjectCfg, Scene
from warplab.assets.terrain_generator import TerrainCfg
from warplab.sim import Simulation

ARM_XML = """<mujoco model="arm">
  <compiler angle="radian"/>
  <option timestep="0.002" solver="Newton"/>
  <worldbody>
    <body name="link" pos="0 0 0.5">
      <joint name="hinge" axis="0 1 0" range="-1 1"/>
      <geom type="capsule" fromto="0 0 0 0.3 0 0" size="0.03" mass="1"/>
    </body>
  </worldbody>
</mujoco>"""


def _arm() -> RobotCfg:
    return RobotCfg(
        name="arm",
        spec=lambda: mujoco.MjSpec.from_string(ARM_XML),
        joint_names=("hinge",),
        default_joint_pos={"hinge": 0.2},
        base_body="link",
        actuators=(ActuatorGroupCfg("hinge", kp=20.0, kd=1.0, effort_limit=10.0),),
    )


def test_scene_holds_robot_ground_objects_lights_cameras(tmp_path):
    (tmp_path / "cube.obj").write_text(CUBE_OBJ)
    scene = Scene(
        robot=_arm(),
        objects=(
            ObjectCfg("crate", "box", size=(0.1, 0.2, 0.3), pos=(1, 0, 0.3), mass=6.0),
            ObjectCfg(
                "part",
                "mesh",
                mesh_file=str(tmp_path / "cube.obj"),
                mesh_scale=(2, 2, 2),
                pos=(0, 1, 0.2),
                mass=0.5,
            ),
            ObjectCfg("table", "box", size=(0.5, 0.5, 0.02), pos=(2, 2, 0.7), fixed=True),
        ),
        lights=(LightCfg("lamp", pos=(1, 1, 2)),),
        cameras=(
            CameraCfg("side", pos=(0, -3, 1), lookat=(0, 0, 0.5)),
            CameraCfg("wrist", pos=(0.3, 0, 0), body="link"),
        ),
    )
    model = scene.build().compile()
    # The robot comes with its actuator and home pose (RobotCfg), the floor with the ground.
    assert model.actuator("hinge").gainprm[0] == 20.0 and model.key("home").qpos[0] == 0.2
    assert model.geom("floor").type == mujoco.mjtGeom.mjGEOM_PLANE
    # A uniform box of 6 kg: I_x = m (b² + c²) / 3 with half sizes a, b, c.
    np.testing.assert_allclose(
        model.body("crate").inertia, [6 * (0.04 + 0.09) / 3, 6 * (0.01 + 0.09) / 3, 6 * (0.01 + 0.04) / 3]
    )
    # The mesh cube scaled by 2 (0.2 m): I = m s² / 6.
    np.testing.assert_allclose(model.body("part").inertia, [0.5 * 0.04 / 6] * 3, rtol=1e-6)
    assert model.body("table").jntnum[0] == 0 and model.body("crate").jntnum[0] == 1
    assert {model.light(i).name for i in range(model.nlight)} >= {"lamp", "sun", "fill"}
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    # The side camera looks at its target: its -z axis points from (0, -3, 1) to (0, 0, 0.5).
    view = -data.cam_xmat[model.camera("side").id].reshape(3, 3)[:, 2]
    np.testing.assert_allclose(view, np.array([0, 3, -0.5]) / np.linalg.norm([0, 3, -0.5]), atol=1e-12)
    assert model.cam_bodyid[model.camera("wrist").id] == model.body("link").id


def test_terrains_and_bad_objects():
    heights = np.random.default_rng(0).uniform(0.0, 0.2, (12, 16))
    model = Scene(terrain=HeightfieldCfg(heights, size_x=3.0, size_y=2.0)).build().compile()
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    # A ray straight down onto the middle of sample (5, 7) finds its height (the grid spans +-size).
    x, y = -3.0 + 7 * 6.0 / 15, -2.0 + 5 * 4.0 / 11
    geomid = np.zeros(1, np.int32)
    dist = mujoco.mj_ray(model, data, np.array([x, y, 5.0]), np.array([0, 0, -1.0]), None, 1, -1, geomid)
    assert 5.0 - dist == pytest.approx(heights[5, 7], abs=1e-5)
    generated = (
        Scene(
            terrain=TerrainCfg(num_levels=2, num_cols=2, tile_size=2.0, border_width=1.0, platform_size=1.0)
        )
        .build()
        .compile()
    )
    assert generated.geom("terrain_r0_c0").type == mujoco.mjtGeom.mjGEOM_HFIELD
    assert Scene(terrain=None).build().compile().ngeom == 0
    with pytest.raises(ValueError, match=r"object 'crate': a box needs 3 positive sizes"):
        Scene(objects=(ObjectCfg("crate", "box", size=(0.1, 0.0, 0.1)),)).build()
    with pytest.raises(ValueError, match=r"object 'crate': mass_range \(2.0, 1.0\) must be"):
        Scene(objects=(ObjectCfg("crate", mass_range=(2.0, 1.0)),)).build()
    with pytest.raises(ValueError, match=r"shape 'cone' is not one of"):
        Scene(objects=(ObjectCfg("crate", "cone"),)).build()
    with pytest.raises(FileNotFoundError, match=r"mesh 'nope.stl' not found: tried .*nope.stl"):
        Scene(objects=(ObjectCfg("part", "mesh", mesh_file="nope.stl"),)).build()
    with pytest.raises(ValueError, match=r"terrain 'rough'"):
        Scene(terrain="rough").build()


def test_an_object_with_several_shapes_holds_one_geom_each():
    ranges = {
        "box": ((0.02, 0.04), (0.01, 0.03), (0.03, 0.03)),
        "sphere": ((0.01, 0.05),),
        "capsule": ((0.01, 0.02), (0.02, 0.06)),
    }
    obj = ObjectCfg(
        "part",
        pos=(0, 0, 0.01),
        mass=0.3,
        rgba=(0.1, 0.2, 0.3, 0.9),
        shapes=tuple(ranges),
        shape_size_ranges=ranges,
    )
    model = Scene(objects=(obj,)).build().compile()
    geoms = [model.geom(f"part_{s}") for s in ranges]
    kinds = [mujoco.mjtGeom.mjGEOM_BOX, mujoco.mjtGeom.mjGEOM_SPHERE, mujoco.mjtGeom.mjGEOM_CAPSULE]
    assert [int(g.type[0]) for g in geoms] == [int(k) for k in kinds]
    # The middle of each range; the first shape active, the others parked: no margin, no colour, no mass.
    np.testing.assert_allclose([g.size for g in geoms], [[0.03, 0.02, 0.03], [0.03, 0, 0], [0.015, 0.04, 0]])
    assert [g.margin[0] for g in geoms] == [0.0, PARKED_MARGIN, PARKED_MARGIN]
    assert [g.rgba[3] for g in geoms] == pytest.approx([0.9, 0.0, 0.0])
    body = model.body("part")
    assert body.mass[0] == pytest.approx(0.3)
    np.testing.assert_allclose(
        body.inertia, 0.3 / 3 * np.array([0.02**2 + 0.03**2, 0.03**2 + 0.03**2, 0.03**2 + 0.02**2])
    )
    np.testing.assert_allclose(
        model.numeric("part_box_size_range").data, [0.02, 0.04, 0.01, 0.03, 0.03, 0.03]
    )
    np.testing.assert_allclose(model.numeric("part_capsule_size_range").data, [0.01, 0.02, 0.02, 0.06])
    # Sunk 2 cm into the floor, every shape overlaps it, yet only the box touches it (MuJoCo's C engine).
    data = mujoco.MjData(model)
    mujoco.mj_forward(model, data)
    floor = model.geom("floor").id
    assert all(mujoco.mj_geomDistance(model, data, g.id, floor, 1.0, None) < 0 for g in geoms)
    assert data.ncon > 0 and {tuple(sorted(c.geom)) for c in data.contact} == {(floor, geoms[0].id)}

    box = {"box": ranges["box"]}
    wrong = [
        ({"shapes": ("box",)}, r"object 'part': shapes \('box',\) must be two or more distinct"),
        ({"shapes": ("box", "cone")}, r"two or more distinct shapes of \['box', 'capsule'"),
        (
            {"shape_size_ranges": {**box, "cone": ((0.1, 0.2),)}},
            r"has shapes \['cone'\] that are not in shapes",
        ),
        ({"shape_size_ranges": box}, r"shape_size_ranges\['sphere'\] must hold 1 \(low, high\) ranges"),
        ({"shape_size_ranges": {**box, "sphere": ((0.05, 0.01),)}}, r"\['sphere'\] has \(0.05, 0.01\)"),
        ({"size_scale_range": (0.9, 1.1)}, "draws its sizes from shape_size_ranges"),
        ({"shapes": ()}, "shape_size_ranges needs shapes"),
    ]
    for fields, message in wrong:
        cfg = {
            "shapes": ("box", "sphere"),
            "shape_size_ranges": {**box, "sphere": ranges["sphere"]},
            **fields,
        }
        with pytest.raises(ValueError, match=message):
            Scene(objects=(ObjectCfg("part", **cfg),)).build()


def test_objects_vary_per_world_and_match_the_c_engine():
    scene = Scene(
        robot=mujoco.MjSpec.from_string(ARM_XML),
        objects=(
            # A box dropped on the floor, sliding: its size sets where it rests, its friction how far it slides.
            ObjectCfg(
                "crate",
                "box",
                size=(0.05, 0.05, 0.05),
                pos=(0.8, 0, 0.052),
                mass=2.0,
                mass_range=(0.5, 4.0),
                size_scale_range=(0.6, 1.4),
                friction_range=(0.3, 1.0),
            ),
            ObjectCfg(
                "ball", "sphere", size=(0.04,), pos=(-0.8, 0, 0.2), mass=0.3, size_scale_range=(0.5, 2.0)
            ),
        ),
    )
    spec = scene.build()
    n, steps = 3, 150
    sim = Simulation(spec.compile(), n, device="cpu")
    drawn = scene.vary_objects(sim, seed=1)
    assert set(drawn) == {"crate", "ball"} and set(drawn["crate"]) == {"mass", "size_scale", "friction"}
    mass = drawn["crate"]["mass"]
    assert len(set(mass.tolist())) == n and all(0.5 <= m <= 4.0 for m in mass.tolist())
    model = sim.mj_model
    crate, ball = model.body("crate").id, model.body("ball").id
    sizes = sim.model_field("geom_size")[:, model.geom("crate").id, 0]
    assert len(set(sizes.tolist())) == n
    qvel0 = np.zeros(model.nv)
    qvel0[model.jnt_dofadr[model.joint("crate").id]] = 1.0  # slide along x
    sim.set_state(qvel=torch.tensor(np.tile(qvel0, (n, 1)), dtype=torch.float32))
    sim.step(steps)

    for w in range(n):
        ref = mujoco.MjModel.from_xml_string(spec.to_xml())
        for body, name in ((crate, "crate"), (ball, "ball")):
            values = drawn[name]
            scale = float(values["size_scale"][w])
            mass_w = float(values["mass"][w]) if "mass" in values else ref.body_mass[body]
            ref.body_inertia[body] *= mass_w / ref.body_mass[body] * scale**2
            ref.body_mass[body] = mass_w
            ref.geom_size[model.geom(name).id] *= scale
        ref.geom_friction[model.geom("crate").id, 0] = float(drawn["crate"]["friction"][w])
        data = mujoco.MjData(ref)
        mujoco.mj_setConst(ref, data)  # the derived constants, as set_const does on the device
        data.qvel[:] = qvel0
        for _ in range(steps):
            mujoco.mj_step(ref, data)
        got = sim.qpos[w].double().numpy()
        np.testing.assert_allclose(got, data.qpos, atol=1e-4, err_msg=f"world {w}")
        # Each object rests on its own size in its own world.
        ball_z = got[model.jnt_qposadr[model.joint("ball").id] + 2]
        assert ball_z == pytest.approx(0.04 * float(drawn["ball"]["size_scale"][w]), abs=2e-3)
