"""Objects whose shape differs between worlds (``ObjectCfg(shapes=...)``, ``mdp.randomize_object_shape``),
against MuJoCo's C engine given a model that holds only that world's shape, and against values worked
out by hand."""

from __future__ import annotations

import math

import mujoco
import numpy as np
import pytest
import torch

from warplab.assets.object_shapes import PARKED_MARGIN
from warplab.assets.scene import ObjectCfg, Scene
from warplab.envs import (
    ActionTermCfg,
    EventTermCfg,
    ObservationGroupCfg,
    ObservationTermCfg,
    RlEnv,
    RlEnvCfg,
    mdp,
)

SHAPES = ("box", "sphere", "cylinder", "capsule")
RANGES = {
    "box": ((0.02, 0.04), (0.015, 0.03), (0.01, 0.03)),
    "sphere": ((0.015, 0.035),),
    "cylinder": ((0.015, 0.03), (0.01, 0.04)),
    "capsule": ((0.01, 0.025), (0.01, 0.03)),
}
MASS = 0.2
N = 16
SEED = 3
# Tilted by 0.3 rad about a horizontal axis: each shape lands on an edge or a rim, then settles.
TILT = (math.cos(0.15), math.sin(0.15) * 0.6, math.sin(0.15) * 0.8, 0.0)
DROP_M = 0.03
# An env needs an action: a slider held by a servo, well away from the object.
SLIDER_XML = """<mujoco>
  <worldbody>
    <body name="slider" pos="0.5 0 0.3">
      <joint name="slide" type="slide" axis="1 0 0" range="-0.1 0.1"/>
      <geom type="box" size="0.03 0.03 0.03" mass="0.5"/>
    </body>
  </worldbody>
  <actuator><position name="slide" joint="slide" kp="50" kv="5"/></actuator>
</mujoco>"""


def _scene(*objects: ObjectCfg) -> Scene:
    return Scene(robot=mujoco.MjSpec.from_string(SLIDER_XML), objects=objects)


def _object(**fields) -> ObjectCfg:
    cfg = ObjectCfg(
        "part", pos=(0.0, 0.0, 0.2), mass=MASS, friction=0.8, shapes=SHAPES, shape_size_ranges=RANGES
    )
    for name, value in fields.items():
        setattr(cfg, name, value)
    return cfg


def _cfg(seed: int = SEED, rotation: str = "fixed", num_envs: int = N) -> RlEnvCfg:
    scene = _scene(_object())
    return RlEnvCfg(
        scene=scene.build,
        decimation=1,
        episode_length_s=100.0,
        num_envs=num_envs,
        device="cpu",
        seed=seed,
        observations={
            "policy": ObservationGroupCfg(terms={"slide": ObservationTermCfg(func=mdp.joint_pos)}),
            "critic": ObservationGroupCfg(
                terms={"shape": ObservationTermCfg(func=mdp.object_shape_onehot, params={"object": "part"})}
            ),
        },
        actions={"slide": ActionTermCfg(func=mdp.JointPositionAction, params={"actuators": "slide"})},
        rewards={},
        terminations={},
        events={
            "shape": EventTermCfg(func=mdp.randomize_object_shape, mode="startup", params={"object": "part"}),
            "place": EventTermCfg(
                func=mdp.reset_object_pose,
                mode="reset",
                params={
                    "object": "part",
                    "position": (0.0, 0.0, DROP_M),
                    "rotation": rotation,
                    "quat": TILT,
                    "on_surface": True,
                },
            ),
        },
    )


@pytest.fixture(scope="module")
def env() -> RlEnv:
    return RlEnv(_cfg())


def _world(env: RlEnv, w: int) -> tuple[str, np.ndarray]:
    """The shape active in world ``w`` and its size (MuJoCo's, m)."""
    k = int(mdp.object_shape_onehot(env, "part")[w].argmax())
    geom = env.mj_model.geom(f"part_{SHAPES[k]}").id
    return SHAPES[k], env.sim.model_field("geom_size")[w, geom].double().numpy()


def _single_shape_model(shape: str, size: np.ndarray) -> mujoco.MjModel:
    """MuJoCo's C engine model of the same scene holding only ``shape``: its inertia is the compiler's."""
    obj = _object(shapes=(), shape_size_ranges={}, shape=shape, size=tuple(size))
    return _scene(obj).build().compile()


def test_each_shape_falls_like_a_model_that_holds_only_it(env):
    actives = [_world(env, w) for w in range(N)]
    assert {s for s, _ in actives} == set(SHAPES), "the seed should give every shape a world"
    m = env.mj_model
    body, qadr = m.body("part").id, m.jnt_qposadr[m.joint("part").id]
    parked = torch.as_tensor([[s != shape for s in SHAPES] for shape, _ in actives])
    shape_geoms = torch.as_tensor([m.geom(f"part_{s}").id for s in SHAPES])
    qpos0 = env.sim.qpos.double().numpy().copy()
    refs, datas = [], []
    for w, (shape, size) in enumerate(actives):
        ref = _single_shape_model(shape, size)
        # Mass and inertia per world equal the compiler's for that shape and size alone.
        assert env.sim.model_field("body_mass")[w, body] == pytest.approx(MASS)
        np.testing.assert_allclose(
            env.sim.model_field("body_inertia")[w, body].double().numpy(), ref.body_inertia[body], rtol=1e-5
        )
        np.testing.assert_allclose(ref.body_ipos[body], 0.0, atol=1e-12)
        data = mujoco.MjData(ref)
        data.qpos[:] = qpos0[w]
        refs.append(ref)
        datas.append(data)
    for chunk in range(6):
        for _ in range(25):
            env.sim.step()
            for ref, data in zip(refs, datas, strict=True):
                mujoco.mj_step(ref, data)
            count = int(env.sim.contact.count[0])
            geoms = env.sim.contact.geom[:count]
            worlds = env.sim.contact.worldid[:count]
            for side in range(2):
                hit = (geoms[:, side, None] == shape_geoms).long().argmax(1)
                on_shape = (geoms[:, side, None] == shape_geoms).any(1)
                assert not (on_shape & parked[worlds, hit]).any(), "a parked shape touched something"
        got = env.sim.qpos.double().numpy()
        # Each world has the contacts of its own shape alone: no more, no fewer.
        per_world = torch.bincount(worlds.long(), minlength=N).tolist()
        assert per_world == [data.ncon for data in datas], f"after {25 * (chunk + 1)} steps"
        for w, data in enumerate(datas):
            np.testing.assert_allclose(
                got[w, qadr : qadr + 7],
                data.qpos[qadr : qadr + 7],
                atol=1e-3,
                err_msg=f"world {w} ({actives[w][0]}) after {25 * (chunk + 1)} steps",
            )
    # The parked shapes do reach into the floor in some worlds: no contact is the parking's doing.
    assert _parked_in_floor(env) > 0


def _parked_in_floor(env: RlEnv) -> int:
    """How many parked geoms, at their size in their world, overlap the floor (MuJoCo's C engine)."""
    geoms = [env.mj_model.geom(f"part_{s}").id for s in SHAPES]
    parked = mdp.object_shape_onehot(env, "part") == 0
    count = 0
    for w in range(env.num_envs):
        m = env.sim.world_mj_model(w)
        data = mujoco.MjData(m)
        data.qpos[:] = env.sim.qpos[w].double().numpy()
        mujoco.mj_kinematics(m, data)
        floor = m.geom("floor").id
        count += sum(
            mujoco.mj_geomDistance(m, data, g, floor, 1.0, None) < 0 for g in np.array(geoms)[parked[w]]
        )
    return count


def test_resets_put_every_shape_on_the_surface_and_only_it_is_drawn():
    env = RlEnv(_cfg(seed=11, rotation="xyz", num_envs=8))
    qpos = env.sim.qpos.double().numpy()
    for w in range(8):
        shape, size = _world(env, w)
        m = env.sim.world_mj_model(w)  # this world's sizes, margins and colours
        geom = m.geom(f"part_{shape}").id
        np.testing.assert_allclose(m.geom_size[geom], size)
        data = mujoco.MjData(m)
        data.qpos[:] = qpos[w]
        mujoco.mj_forward(m, data)
        distance = mujoco.mj_geomDistance(m, data, geom, m.geom("floor").id, 1.0, None)
        assert distance == pytest.approx(DROP_M, abs=1e-5), f"world {w} ({shape})"
        # MuJoCo's visualizer (what a video of this world draws) skips the parked, colourless geoms.
        scene = mujoco.MjvScene(m, maxgeom=100)
        mujoco.mjv_updateScene(
            m, data, mujoco.MjvOption(), None, mujoco.MjvCamera(), mujoco.mjtCatBit.mjCAT_ALL, scene
        )
        drawn = {
            int(scene.geoms[i].objid)
            for i in range(scene.ngeom)
            if scene.geoms[i].objtype == mujoco.mjtObj.mjOBJ_GEOM
        }
        assert drawn & {m.geom(f"part_{s}").id for s in SHAPES} == {geom}, f"world {w} ({shape})"


def test_draws_are_reproducible_observed_and_masked(env):
    twin = RlEnv(_cfg())
    other = RlEnv(_cfg(seed=SEED + 1))
    onehot = mdp.object_shape_onehot(env, "part")
    assert onehot.shape == (N, len(SHAPES)) and (onehot.sum(1) == 1).all()
    torch.testing.assert_close(env.observations["critic"], onehot)
    geoms = [env.mj_model.geom(f"part_{s}").id for s in SHAPES]
    sizes = env.sim.model_field("geom_size")[:, geoms]
    torch.testing.assert_close(mdp.object_shape_onehot(twin, "part"), onehot, atol=0, rtol=0)
    torch.testing.assert_close(twin.sim.model_field("geom_size")[:, geoms], sizes, atol=0, rtol=0)
    assert not torch.equal(other.sim.model_field("geom_size")[:, geoms], sizes)
    # Each drawn size lies in its shape's ranges; parked geoms keep their compiled size and margin.
    size0 = torch.as_tensor(env.mj_model.geom_size[geoms], dtype=torch.float32)
    for w in range(N):
        k = int(onehot[w].argmax())
        for d, (low, high) in enumerate(RANGES[SHAPES[k]]):
            assert low - 1e-7 <= float(sizes[w, k, d]) <= high + 1e-7
        torch.testing.assert_close(sizes[w, onehot[w] == 0], size0[onehot[w] == 0])
    margin = env.sim.model_field("geom_margin")[:, geoms]
    alpha = env.sim.model_field("geom_rgba")[:, geoms, 3]
    torch.testing.assert_close(margin, torch.where(onehot > 0, 0.0, PARKED_MARGIN))
    torch.testing.assert_close(alpha, torch.where(onehot > 0, 1.0, 0.0))

    mask = torch.zeros(N, dtype=torch.bool)
    mask[:3] = True
    before = {
        f: twin.sim.model_field(f).clone() for f in ("geom_size", "geom_margin", "geom_rgba", "body_inertia")
    }
    for _ in range(3):  # new draws until a masked world changes shape
        mdp.randomize_object_shape(twin, mask, "part")
    for field, value in before.items():
        torch.testing.assert_close(twin.sim.model_field(field)[~mask], value[~mask], atol=0, rtol=0)
    assert not torch.equal(twin.sim.model_field("geom_size")[mask], before["geom_size"][mask])
    # A palette keeps the parked shapes hidden.
    mdp.randomize_geom_color(twin, mask, "part_.*", colors=[(0.0, 1.0, 0.0, 0.5)])
    alpha = twin.sim.model_field("geom_rgba")[:, geoms, 3]
    shown = mdp.object_shape_onehot(twin, "part") > 0
    assert (alpha[mask][shown[mask]] == 0.5).all() and (alpha[~shown] == 0.0).all()


def test_shape_terms_name_what_is_wrong(env):
    every = torch.ones(N, dtype=torch.bool)
    with pytest.raises(ValueError, match="randomize_object_shape draws its size"):
        mdp.randomize_object_size(env, every, "part", (0.9, 1.1))
    with pytest.raises(ValueError, match="'slider' has one shape"):
        mdp.randomize_object_shape(env, every, "slider")
    with pytest.raises(ValueError, match="'slider' has one shape"):
        mdp.object_shape_onehot(env, "slider")
