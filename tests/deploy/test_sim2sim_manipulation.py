"""A manipulation policy leaves warplab and runs on MuJoCo's C engine: the project's hand with its
cube, observed through the generic object, goal, fingertip and touch terms.

The reference for the observation is warplab's own env: the vector ``Policy`` builds from signals
read out of ``MjData`` must be the env's policy observation for the identical state and goal.
"""

from __future__ import annotations

import json
import math

import mujoco
import numpy as np
import onnx
import pytest
import torch

from tests.envs._hand_scene import HAND_XML, PALM_QUAT
from tests.envs._hand_scene import hand_spec as tilted_hand_spec
from warplab.assets.robots.hand import HAND_JOINT_NAMES, TIP_SITES, TOUCH_SENSORS, hand_with_cube_spec
from warplab.deploy import Policy, PolicyError
from warplab.deploy.export import export_onnx, policy_metadata, policy_output_metadata
from warplab.deploy.object_signals import quat_mul
from warplab.deploy.sim2sim import Sim2Sim, Sim2SimCfg, Streams, run_sim2sim
from warplab.deploy.sim2sim_model import load_model
from warplab.envs import (
    ActionTermCfg,
    CommandTermCfg,
    ObservationGroupCfg,
    ObservationTermCfg,
    RlEnv,
    RlEnvCfg,
    TerminationTermCfg,
    mdp,
)
from warplab.rl.config import PolicyCfg
from warplab.rl.networks import ActorCritic

GOAL = {"command_name": "goal"}
DROP_M = 0.24
CAP = 3


def wrist_hand_spec() -> mujoco.MjSpec:
    """The tilted palm of ``tilted_hand_spec`` on a wrist: a hinge about its x axis, driven by a servo."""
    xml = HAND_XML.replace(
        '<geom name="palm_geom"',
        '<joint name="wrist" type="hinge" axis="1 0 0" range="-1 1" armature="0.01" damping="0.05"/>\n'
        '      <geom name="palm_geom"',
    ).replace("<actuator>", '<actuator>\n    <position name="wrist_pos" joint="wrist" kp="5" kv="0.1"/>')
    return mujoco.MjSpec.from_string(xml)


def _env_cfg(
    scene=hand_with_cube_spec, frame=None, sites=TIP_SITES, sensors=TOUCH_SENSORS, world_terms=False
) -> RlEnvCfg:
    frame = frame or {"frame_body": "palm"}
    cube = {"object": "cube", **frame}
    # Terms in the world frame beside the object frame's: the runtime carries the object and the
    # fingertips, given in the object frame, into the world through that frame's pose.
    in_world = {
        "object_pos_w": ObservationTermCfg(func=mdp.object_pos_in_frame, params={"object": "cube"}),
        "object_lin_vel_w": ObservationTermCfg(func=mdp.object_lin_vel_in_frame, params={"object": "cube"}),
        "tips_w": ObservationTermCfg(func=mdp.fingertip_positions, params={"sites": list(sites)}),
    }
    terms = {
        "joint_pos": ObservationTermCfg(func=mdp.joint_pos_rel),
        "joint_vel": ObservationTermCfg(func=mdp.joint_vel, scale=0.2),
        "object_pos": ObservationTermCfg(func=mdp.object_pos_in_frame, params=cube),
        "object_quat": ObservationTermCfg(func=mdp.object_quat_in_frame, params=cube),
        "object_ang_vel": ObservationTermCfg(func=mdp.object_ang_vel_in_frame, params=cube, scale=0.2),
        "object_lin_vel": ObservationTermCfg(func=mdp.object_lin_vel_in_frame, params=cube, clip=(-1.0, 1.0)),
        "goal_quat": ObservationTermCfg(func=mdp.goal_quat, params=GOAL),
        "goal_in_frame": ObservationTermCfg(func=mdp.goal_quat_in_frame, params={**GOAL, **frame}),
        "goal_quat_diff": ObservationTermCfg(func=mdp.goal_quat_diff, params=GOAL),
        "goal_error": ObservationTermCfg(func=mdp.goal_orientation_error, params=GOAL),
        "tips": ObservationTermCfg(func=mdp.fingertip_positions, params={"sites": list(sites), **frame}),
        "touch": ObservationTermCfg(func=mdp.touch_sensors, params={"sensors": list(sensors)}, scale=0.1),
        "last_action": ObservationTermCfg(func=mdp.last_action),
        **(in_world if world_terms else {}),
    }
    return RlEnvCfg(
        scene=scene,
        observations={"policy": ObservationGroupCfg(terms=terms)},
        actions={
            "joints": ActionTermCfg(func=mdp.JointPositionAction, params={"actuators": ".*", "scale": 0.25})
        },
        rewards={},
        terminations={
            "dropped": TerminationTermCfg(func=mdp.object_dropped, params={**cube, "max_distance": DROP_M}),
            "success_cap": TerminationTermCfg(
                func=mdp.success_cap, params={**GOAL, "max_successes": CAP}, time_out=True
            ),
        },
        commands={
            "goal": CommandTermCfg(
                func=mdp.OrientationGoalCommand,
                params={"object": "cube", "tolerance_rad": 0.1, "rotation": "xyz"},
                resampling_time_range_s=(1e9, 1e9),
            )
        },
        decimation=4,
        episode_length_s=20.0,
        init_keyframe="home" if scene is hand_with_cube_spec else None,
        num_envs=1,
        device="cpu",
        seed=3,
    )


def _export(cfg: RlEnvCfg, out):
    env = RlEnv(cfg)
    obs_dim = env.observation_shapes["policy"][0]
    torch.manual_seed(0)
    model = ActorCritic(
        env.observation_shapes, env.action_dim, PolicyCfg(actor_hidden_dims=(32,), critic_hidden_dims=(32,))
    )
    export_onnx(
        model, obs_dim, out, {**policy_metadata(env, "hand-cube-test"), **policy_output_metadata(model)}
    )
    return env, out


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """The hand with its cube and an untrained policy, exported to ONNX."""
    return _export(_env_cfg(), tmp_path_factory.mktemp("hand") / "policy.onnx")


@pytest.fixture(scope="module")
def tilted(tmp_path_factory):
    """A palm tilted 45 degrees whose frame is a site turned again: every conversion between the
    world and the object frame is a real rotation."""
    cfg = _env_cfg(
        scene=tilted_hand_spec, frame={"frame_site": "palm_site"}, sites=("tip.*",), sensors=("touch_.*",)
    )
    return _export(cfg, tmp_path_factory.mktemp("tilted") / "policy.onnx")


@pytest.fixture(scope="module")
def moving(tmp_path_factory):
    """The tilted palm on a wrist hinge, its frame a site, with terms in the world frame too: a policy
    that reads the palm's pose at run time."""
    cfg = _env_cfg(
        scene=wrist_hand_spec,
        frame={"frame_site": "palm_site"},
        sites=("tip.*",),
        sensors=("touch_.*",),
        world_terms=True,
    )
    return _export(cfg, tmp_path_factory.mktemp("moving") / "policy.onnx")


def _random_state(m: mujoco.MjModel, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A hand pose within the joint ranges and a cube above the palm, tilted and moving."""
    qpos = m.key_qpos[m.key("home").id].copy() if m.nkey else m.qpos0.copy()
    qvel = rng.normal(0.0, 0.5, m.nv)
    cube = m.jnt_qposadr[m.body("cube").jntadr[0]]
    for j in range(m.njnt):
        if j != m.body("cube").jntadr[0]:
            qpos[m.jnt_qposadr[j]] = rng.uniform(*m.jnt_range[j])
    qpos[cube : cube + 3] += rng.uniform(-0.02, 0.02, 3) + [0.0, 0.0, 0.05]
    quat = rng.normal(size=4)
    qpos[cube + 3 : cube + 7] = quat / np.linalg.norm(quat)
    return qpos, qvel


def test_metadata_declares_the_object_goal_and_drop(exported, tilted):
    tilted_meta = Policy.load(tilted[1]).metadata
    frame = tilted_meta["object_frame"]
    assert frame["site"] == "palm_site" and frame["fixed"] is True
    m = tilted[0].mj_model
    expected = np.zeros(4)
    mujoco.mju_mulQuat(
        expected, np.array(PALM_QUAT) / np.linalg.norm(PALM_QUAT), m.site_quat[m.site("palm_site").id]
    )
    np.testing.assert_allclose(frame["quat_w"], expected, atol=1e-6)
    # Sites in the model's order (the order the env reads them), not the order of the patterns.
    sites = [m.site(i).name for i in range(m.nsite) if m.site(i).name.startswith("tip")]
    (tips,) = [t for t in tilted_meta["observation_terms"] if t["name"] == "tips"]
    assert tips["params"]["sites"] == sites == ["tip2", "tip0", "tip1"]
    meta = Policy.load(exported[1], joint_names=HAND_JOINT_NAMES).metadata
    terms = {t["name"]: t for t in meta["observation_terms"]}
    assert terms["object_pos"]["signal"] == "object_pos"
    assert terms["object_pos"]["params"] == {"object": "cube", "frame": {"body": "palm"}}
    assert terms["goal_quat"]["params"] == {"command_name": "goal", "command_slice": [3, 7]}
    assert terms["goal_in_frame"]["signal"] == "goal_quat_in_frame"
    assert terms["goal_in_frame"]["params"] == {"command_name": "goal", "frame": {"body": "palm"}}
    assert terms["tips"]["params"]["sites"] == list(TIP_SITES)
    assert terms["touch"]["params"] == {"sensors": list(TOUCH_SENSORS), "sensor_dims": [1, 1, 1, 1]}
    frame = meta["object_frame"]
    assert frame["body"] == "palm" and frame["fixed"] is True
    m = mujoco.MjModel.from_xml_string(meta["scene"]["xml"])
    np.testing.assert_allclose(frame["pos_w"], m.body("palm").pos, atol=1e-9)
    goal = meta["commands"]["goal"]
    assert goal["type"] == "OrientationGoalCommand" and goal["components"][3:] == [
        "quat_w",
        "quat_x",
        "quat_y",
        "quat_z",
    ]
    assert goal["params"]["tolerance_rad"] == pytest.approx(0.1) and goal["params"]["rotation"] == "xyz"
    assert meta["fall"]["object_dropped"] == [
        {"object": "cube", "frame": {"body": "palm"}, "max_distance": DROP_M, "min_height": None}
    ]
    assert meta["success_cap"] == {"command_name": "goal", "max_successes": CAP}


def test_a_moving_palm_names_the_terms_that_read_its_pose(tilted, moving):
    assert Policy.load(tilted[1]).metadata["object_frame"]["pose_signal"] is None
    frame = Policy.load(moving[1]).metadata["object_frame"]
    assert frame["site"] == "palm_site" and frame["fixed"] is False
    # Those that turn the goal into the palm frame or carry the palm-frame signals into the world.
    assert frame["pose_signal"]["name"] == "object_frame_pose" and frame["pose_signal"]["terms"] == [
        "goal_in_frame",
        "goal_quat_diff",
        "goal_error",
        "object_pos_w",
        "object_lin_vel_w",
        "tips_w",
    ]


@pytest.mark.parametrize("which", ["exported", "tilted", "moving"])
def test_policy_observation_from_mjdata_equals_the_envs(which, request):
    env, path = request.getfixturevalue(which)
    policy = Policy.load(path)
    mj_model, _ = load_model(policy)
    check = Sim2Sim(policy, mj_model, Sim2SimCfg(seconds=1.0, episodes=1))
    m = check.model
    rng = np.random.default_rng(7)
    goal_term = env.command_manager.term("goal")
    for _ in range(3):
        qpos, qvel = _random_state(m, rng)
        goal = np.concatenate([rng.uniform(-0.1, 0.1, 3), rng.normal(size=4)])
        goal[3:] /= np.linalg.norm(goal[3:])
        goal[3:] *= np.sign(goal[3])
        goal_term.command[0] = torch.as_tensor(goal, dtype=torch.float32)
        expected = env.set_physical_state(qpos=qpos[None], qvel=qvel[None])["policy"][0].numpy()
        d = check.data
        d.qpos[:], d.qvel[:] = qpos, qvel
        mujoco.mj_forward(m, d)
        policy.reset()
        commands = {"goal": goal.astype(np.float32)}
        built = policy.observation(check.signals(check.sense(), commands))
        assert built.shape == expected.shape
        np.testing.assert_allclose(built, expected, atol=2e-5, rtol=1e-5)
    # The goal as an orientation alone ([4]) gives the same observation: no term reads its position
    # but the goal position is carried in the metadata.
    only_quat = policy.observation(check.signals(check.sense(), {"goal": goal[3:].astype(np.float32)}))
    np.testing.assert_allclose(only_quat, built, atol=1e-6)


def test_sim2sim_runs_with_and_without_latency_and_reports_successes(exported):
    _, path = exported
    plain = run_sim2sim(path, Sim2SimCfg(seconds=0.4, episodes=2, seed=1))
    late = run_sim2sim(path, Sim2SimCfg(seconds=0.4, episodes=2, seed=1, latency_ms=20.0))
    for report in (plain, late):
        s = report["summary"]
        assert s["episodes"] == 2 and s["diverged"] == 0 and s["non_finite"] == 0
        assert {"consecutive_successes_mean", "consecutive_successes_max", "dropped", "drop_rate"} <= set(s)
        for e in report["episodes"]:
            assert isinstance(e["consecutive_successes"], int) and isinstance(e["dropped"], bool)
            assert e["end"] in ("time", "dropped", "success_cap")
    assert late["settings"]["latency_steps"] == 4 and late["settings"]["latency_applied_ms"] == pytest.approx(
        20.0
    )
    # The goal is drawn from the command's own rule (uniform rotations), one per episode start here.
    goals = [e["commands"][0]["goal"] for e in plain["episodes"]]
    assert goals[0] != goals[1] and all(abs(np.linalg.norm(g[3:]) - 1.0) < 1e-6 for g in goals)


def test_latency_delays_the_object_signals_but_not_the_goal(exported):
    _, path = exported
    policy = Policy.load(path)
    mj_model, _ = load_model(policy)
    check = Sim2Sim(policy, mj_model, Sim2SimCfg(seconds=0.2, episodes=1, latency_ms=20.0))
    check.trace = []
    check.run_episode(Streams.from_seed(0))
    sensed = {step: s for kind, step, s in check.trace if kind == "sensed"}
    measured = [(step, s) for kind, step, s in check.trace if kind == "measured"]
    for step, s in measured[2:]:
        np.testing.assert_array_equal(s["object_quat"]["cube"], sensed[step - 4]["object_quat"]["cube"])


def test_a_cube_at_its_goal_counts_a_success_and_a_new_goal_is_drawn(exported):
    _, path = exported
    policy = Policy.load(path)
    mj_model, _ = load_model(policy)
    check = Sim2Sim(policy, mj_model, Sim2SimCfg(seconds=1.0, episodes=1))
    goal = check.goals["goal"]
    rng = np.random.default_rng(0)
    goal.successes = 0
    goal.draw(rng)
    first = goal.command.copy()
    d = check.data
    d.qpos[:] = check.robot.init_qpos
    cube = mj_model.jnt_qposadr[mj_model.body("cube").jntadr[0]]
    # Just outside the tolerance: no success. A turn of 0.12 rad about x away from the goal.
    turn = np.array([math.cos(0.06), math.sin(0.06), 0.0, 0.0])

    d.qpos[cube + 3 : cube + 7] = quat_mul(first[3:], turn)
    assert not goal.update(d, rng) and goal.successes == 0
    np.testing.assert_array_equal(goal.command, first)
    d.qpos[cube + 3 : cube + 7] = -first[3:]  # the same orientation, the other sign
    assert goal.update(d, rng) and goal.successes == 1
    assert not np.allclose(goal.command[3:], first[3:])


def test_a_cube_below_the_palm_ends_the_episode_as_dropped(exported):
    _, path = exported
    policy = Policy.load(path)
    mj_model, _ = load_model(policy)
    m = mujoco.MjModel.from_xml_string(policy.metadata["scene"]["xml"])
    cube = m.jnt_qposadr[m.body("cube").jntadr[0]]
    palm_z = policy.metadata["object_frame"]["pos_w"][2]
    # The episode starts from the keyframe: move the cube there 0.26 m below the palm, past 0.24.
    m.key_qpos[m.key("home").id, cube + 2] = palm_z - 0.26
    report = Sim2Sim(policy, m, Sim2SimCfg(seconds=1.0, episodes=1)).run()
    (episode,) = report["episodes"]
    assert episode["end"] == "dropped" and episode["dropped"] and report["summary"]["dropped"] == 1
    assert episode["survival_s"] == 0.0
    # At rest on the palm, the same policy keeps it for the 0.2 s.
    kept = Sim2Sim(policy, mj_model, Sim2SimCfg(seconds=0.2, episodes=1)).run()
    assert kept["summary"]["dropped"] == 0


def test_a_missing_object_signal_names_the_term_and_signal(exported):
    _, path = exported
    policy = Policy.load(path)
    mj_model, _ = load_model(policy)
    check = Sim2Sim(policy, mj_model, Sim2SimCfg(seconds=1.0, episodes=1))
    mujoco.mj_forward(check.model, check.data)
    signals = check.signals(check.sense(), {"goal": np.array([0, 0, 0.3, 1, 0, 0, 0], np.float32)})
    del signals["object_pos"]
    with pytest.raises(
        PolicyError,
        match=r"term 'object_pos' needs the signal 'object_pos' \(object 'cube' in the frame body 'palm'\)",
    ):
        policy.observation(signals)
    signals = check.signals(check.sense(), {"goal": np.array([0, 0, 0.3, 1, 0, 0, 0], np.float32)})
    signals["object_quat"] = {"cube": [1.0, 0.0, 0.0]}
    with pytest.raises(PolicyError, match=r"signal 'object_quat' has 3 values; term 'object_quat' needs 4"):
        policy.observation(signals)
    signals["object_quat"] = {"ball": [1.0, 0.0, 0.0, 0.0]}
    with pytest.raises(PolicyError, match=r"signal 'object_quat' lacks the object 'cube'"):
        policy.observation(signals)
    signals = check.signals(check.sense(), {})
    with pytest.raises(PolicyError, match=r"signal 'commands' lacks the goal 'goal'"):
        policy.observation(signals)


def test_a_term_in_another_frame_than_the_object_frame_is_refused(exported, tmp_path):
    _, path = exported
    proto = onnx.load(str(path))
    meta = {p.key: json.loads(p.value) for p in proto.metadata_props}
    meta["object_frame"] = {**meta["object_frame"], "body": "index_distal"}
    with pytest.raises(
        PolicyError, match=r"observation term 'object_pos' reads in the frame \{'body': 'palm'\}"
    ):
        Policy(None, meta, "edited.onnx")
