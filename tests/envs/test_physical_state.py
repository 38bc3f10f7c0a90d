"""``RlEnv.set_physical_state``: checks, what is written, the terms' hook, observation histories.

A ball on a floor (a free joint, a vertical motor, a filtered spin actuator with an activation)
stands in for a robot: small enough to build in a second, with a floating base, contacts, a foot
and an actuator state. The comparisons with Gymnasium's own tasks from
set states are in tests/tasks/test_*_vs_gymnasium.py.
"""

from __future__ import annotations

import math

import mujoco
import numpy as np
import pytest
import torch

from warplab.envs import (
    ActionTermCfg,
    CommandTermCfg,
    CurriculumTermCfg,
    EventTermCfg,
    ObservationGroupCfg,
    ObservationTermCfg,
    RewardTermCfg,
    RlEnv,
    RlEnvCfg,
    TerminationTermCfg,
    mdp,
)
from warplab.envs.managers import CurriculumTerm, EventTerm, ObservationTerm, RewardTerm, TerminationTerm
from warplab.envs.managers.term import StateSetHook

from ._cfgs import assert_steps_agree, task_env_pair

BALL_XML = """
<mujoco>
  <option timestep="0.01"/>
  <worldbody>
    <geom name="floor" type="plane" size="5 5 0.1"/>
    <body name="foot" pos="0 0 0.1">
      <freejoint name="root"/>
      <geom type="sphere" size="0.1" mass="1"/>
    </body>
  </worldbody>
  <actuator>
    <motor name="lift" joint="root" gear="0 0 1 0 0 0"/>
    <!-- A first-order filter: one actuator activation (na = 1), physical state of its own. -->
    <general name="spin" joint="root" gear="0 0 0 0 0 1" dyntype="filter" dynprm="0.5"/>
  </actuator>
</mujoco>
"""
RADIUS = 0.1
POLICY_DT = 0.02


def qvel(env) -> torch.Tensor:
    """``[num_envs, 6]`` the ball's velocity (free joint: linear m/s, then angular rad/s)."""
    return env.sim.qvel


def ball_spec() -> mujoco.MjSpec:
    return mujoco.MjSpec.from_string(BALL_XML)


def ball_cfg(num_envs: int = 2, **extra) -> RlEnvCfg:
    """The ball with its height as a 3-step history, a feet-air-time reward and a forward command."""
    cfg = RlEnvCfg(
        scene=ball_spec,
        decimation=2,
        episode_length_s=100.0,
        scale_rewards_by_dt=False,
        num_envs=num_envs,
        device="cpu",
        observations={
            "policy": ObservationGroupCfg(
                terms={
                    "height": ObservationTermCfg(func=mdp.base_height, history_length=3),
                    "qvel": ObservationTermCfg(func=qvel),
                }
            )
        },
        actions={"lift": ActionTermCfg(func=mdp.JointEffortAction)},
        commands={
            "vel": CommandTermCfg(
                func=mdp.UniformVelocityCommand,
                resampling_time_range_s=(50.0, 50.0),
                params={"lin_vel_x": (1.0, 1.0)},
            )
        },
        rewards={
            "air": RewardTermCfg(
                func=mdp.feet_air_time,
                weight=1.0,
                params={"bodies": "foot", "threshold_s": 0.0, "command_name": "vel"},
            )
        },
        terminations={},
    )
    for name, value in extra.items():
        setattr(cfg, name, value)
    return cfg


@pytest.fixture(scope="module")
def env():
    return RlEnv(ball_cfg())


def _resting(z: float = RADIUS - 1e-3) -> np.ndarray:
    """qpos of the ball at height ``z`` (m), upright."""
    return np.array([0.0, 0.0, z, 1.0, 0.0, 0.0, 0.0])


def _zero(env) -> torch.Tensor:
    return torch.zeros(env.num_envs, env.action_dim)


# ---------------------------------------------------------------- what is written
def test_writes_the_chosen_worlds_only_and_computes_from_them(env):
    env.reset()
    before = env.sim.qpos.clone()
    obs = env.set_physical_state(qpos=_resting(0.7), qvel=np.array([0.0, 0, -1.0, 0, 0, 0]), worlds=[1])
    assert env.sim.qpos[1, 2] == pytest.approx(0.7)
    assert env.sim.qvel[1, 2] == pytest.approx(-1.0)
    assert torch.equal(env.sim.qpos[0], before[0])
    # Forward kinematics ran: the body's pose is that of the new state.
    assert float(env.sim.xpos[1, 1, 2]) == pytest.approx(0.7)
    assert obs is env.observations
    assert obs["policy"][1, 2] == pytest.approx(0.7)  # the newest entry of the height history
    assert obs["policy"][1, 5] == pytest.approx(-1.0)  # qvel z


@pytest.mark.parametrize(
    "worlds, qpos_rows",
    [
        (1, 1),  # one index, one row
        (torch.tensor([1]), 1),
        (np.array([False, True]), 2),  # a mask with a row for every world: only world 1's is read
        (torch.tensor([False, True]), 1),  # a mask with a row for each chosen world
    ],
)
def test_forms_of_worlds_and_values(worlds, qpos_rows):
    env = RlEnv(ball_cfg())
    rows = np.stack([_resting(0.3 + 0.1 * i) for i in range(qpos_rows)])
    env.set_physical_state(qpos=torch.from_numpy(rows), worlds=worlds)
    assert float(env.sim.qpos[1, 2]) == pytest.approx(rows[-1, 2])
    assert float(env.sim.qpos[0, 2]) == pytest.approx(RADIUS)
    # One [nq] vector sets every chosen world; worlds=None chooses them all.
    env.set_physical_state(qpos=_resting(0.5).astype(np.float32))
    assert env.sim.qpos[:, 2].tolist() == pytest.approx([0.5, 0.5])


def test_actuator_activations_are_physical_state(env):
    env.reset()
    env.set_physical_state(act=np.array([0.25]), worlds=[1])
    assert env.sim.act[:, 0].tolist() == [0.0, 0.25]


def test_a_model_without_activations_refuses_act():
    cfg = ball_cfg()
    cfg.scene = lambda: mujoco.MjSpec.from_string(BALL_XML.replace('dyntype="filter" dynprm="0.5"', ""))
    with pytest.raises(ValueError, match=r"act: this model has no such entries \(na = 0\); leave act out"):
        RlEnv(cfg).set_physical_state(act=np.zeros(1))


def test_quaternions_near_unit_norm_are_written_as_given(env):
    # Gymnasium's resets add noise to quaternions without normalizing; MuJoCo normalizes them where
    # it uses them. The state set is the state given.
    qpos = _resting(0.5)
    qpos[3:7] = [1.1, 0.05, 0.0, 0.0]
    env.set_physical_state(qpos=qpos, worlds=[0])
    torch.testing.assert_close(env.sim.qpos[0], torch.tensor(qpos, dtype=torch.float32))
    w, x = 1.1 / math.hypot(1.1, 0.05), 0.05 / math.hypot(1.1, 0.05)
    torch.testing.assert_close(env.sim.xquat[0, 1], torch.tensor([w, x, 0.0, 0.0]))


def test_numpy_arrays_in_any_layout_are_read(env):
    # Reversed rows (negative strides: a demonstration played backwards) and big-endian data (a
    # file written on another machine), which torch.from_numpy refuses, are values like any other.
    env.reset()
    reversed_rows = np.stack([_resting(0.3), _resting(0.6)])[::-1]
    assert reversed_rows.strides[0] < 0
    env.set_physical_state(qpos=reversed_rows, worlds=[0, 1])
    assert env.sim.qpos[:, 2].tolist() == pytest.approx([0.6, 0.3])
    env.set_physical_state(qpos=_resting(0.4).astype(">f8"), worlds=[1])
    assert float(env.sim.qpos[1, 2]) == pytest.approx(0.4)


def test_many_worlds_are_checked_for_repeats_quickly():
    # Each index was counted in the whole list: 100,000 worlds took over a minute (30 s here for
    # 60,000); with numpy it takes milliseconds.
    import time

    from warplab.envs.physical_state import _world_rows

    n = 60_000
    start = time.perf_counter()
    assert _world_rows(list(range(n)), n) == list(range(n))
    assert time.perf_counter() - start < 5.0
    with pytest.raises(ValueError, match=r"worlds \[7, 9\] appear more than once"):
        _world_rows([9, 7, 1, 7, 9], n)


# ---------------------------------------------------------------- refused, nothing written
def _nan_row():
    q = np.stack([_resting(0.3), _resting(0.3)])
    q[1, 4] = np.nan
    return q


BAD = {
    "nan": (
        dict(qpos=_nan_row(), worlds=[0, 1]),
        "qpos for world 1 is not finite: entry 4 (joint 'root') is nan",
    ),
    "inf qvel": (dict(qvel=np.array([0, 0, np.inf, 0, 0, 0.0]), worlds=1), "qvel for world 1 is not finite"),
    "float32 overflow": (
        dict(qpos=np.array([1e39, 0, 0.3, 1, 0, 0, 0]), worlds=0),
        "entry 0 (joint 'root') is inf as float32",
    ),
    "shape": (dict(qpos=np.zeros((2, 6)), worlds=[0, 1]), "qpos must have shape [2, 7]"),
    "rows for worlds": (dict(qpos=np.zeros((2, 7)), worlds=[1]), "qpos must have shape [1, 7]"),
    "dtype": (
        dict(qpos=torch.zeros(7, dtype=torch.int64), worlds=0),
        "qpos must hold floating-point numbers, got torch.int64",
    ),
    "type": (dict(qvel=[0.0] * 6), "qvel must be a torch.Tensor or a numpy array, got list"),
    "device": (dict(qpos=torch.zeros(7, device="meta"), worlds=0), "qpos is on meta, this env on cpu"),
    "zero quaternion": (
        dict(qpos=np.array([0, 0, 0.3, 0, 0, 0, 0.0]), worlds=1),
        "qpos for world 1: the quaternion (w, x, y, z) of joint 'root' (entries 3:7) has norm 0",
    ),
    "euler angles": (dict(qpos=np.array([0, 0, 0.3, 0.1, 1.5, 2.0, 0.0]), worlds=0), "has norm 2.50"),
    # The divergence guard's bounds: the model's size (about 10 m for the floor) per 10 ms step.
    "too fast": (
        dict(qvel=np.array([0, 2e4, 0, 0, 0, 0.0]), worlds=0),
        "qvel for world 0: entry 1 (joint 'root') is 20000, beyond",
    ),
    "too far": (
        dict(qpos=np.array([0, 1e6, 0.3, 1, 0, 0, 0.0]), worlds=1),
        "qpos for world 1: entry 1 (joint 'root') is 1e+06, outside [",
    ),
    "world out of range": (
        dict(qpos=_resting(), worlds=[2]),
        "worlds [2] out of range: this env has worlds 0 to 1",
    ),
    "negative world": (dict(qpos=_resting(), worlds=-1), "worlds [-1] out of range"),
    "repeated world": (dict(qpos=_resting(), worlds=[1, 1]), "worlds [1] appear more than once"),
    "mask shape": (
        dict(qpos=_resting(), worlds=[True, False, True]),
        "worlds: a bool mask must have shape [num_envs=2], got [3]",
    ),
    "empty mask": (
        dict(qpos=_resting(), worlds=torch.zeros(2, dtype=torch.bool)),
        "worlds: the mask selects no world",
    ),
    "float worlds": (dict(qpos=_resting(), worlds=[0.0]), "worlds must be None, a world index"),
    "act nan": (
        dict(act=np.array([[0.1], [np.nan]])),
        "act for world 1 is not finite: entry 0 (actuator 'spin') is nan",
    ),
    "act shape": (dict(act=np.zeros((2, 2))), "act must have shape [2, 1]"),
    "nothing": (dict(), "nothing to set; give qpos, qvel or act"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_state_is_refused_in_one_line_and_nothing_changes(env, case):
    kwargs, message = BAD[case]
    env.reset()
    before = {name: getattr(env.sim, name).clone() for name in ("qpos", "qvel", "xpos", "cfrc_ext")}
    obs = {g: t.clone() for g, t in env.observations.items()}
    with pytest.raises(ValueError) as raised:
        env.set_physical_state(**kwargs)
    text = str(raised.value)
    assert message in text
    assert "\n" not in text
    for name, value in before.items():
        assert torch.equal(getattr(env.sim, name), value), name
    assert all(torch.equal(env.observations[g], obs[g]) for g in obs)


# ---------------------------------------------------------------- the terms' hook
def test_feet_air_time_takes_contacts_from_the_set_state(env):
    # World 1 flies for 5 steps, gathering air time; then it is set on the ground at rest. Its
    # contact is that of the new state, and a foot on the ground has no air time: the next step
    # with the foot still down rewards no touchdown. (The term's contact of the last step, kept,
    # would say it was in the air, and the next step would pay its air time as a landing.)
    env.reset()
    for _ in range(3):
        env.step(_zero(env))
    term = env.reward_manager.term("air")
    assert term.in_contact.all()
    env.set_physical_state(qpos=_resting(2.0), worlds=[1])
    assert term.in_contact.tolist() == [[True], [False]]
    for _ in range(5):
        env.step(_zero(env))
    assert float(term.air_time[1, 0]) == pytest.approx(5 * POLICY_DT)
    air_time_0 = term.air_time[0].clone()

    env.set_physical_state(qpos=_resting(), qvel=np.zeros(6), worlds=[1])
    assert term.in_contact.tolist() == [[True], [True]]
    assert term.air_time[:, 0].tolist() == [float(air_time_0), 0.0]
    _, reward, _, _, _ = env.step(_zero(env))
    assert reward.tolist() == [0.0, 0.0]


def test_contact_the_hook_reads_is_mujocos():
    # The contact force the hook compares with 1 N is MuJoCo's for the set state (C engine).
    env = RlEnv(ball_cfg())
    env.set_physical_state(qpos=np.stack([_resting(), _resting(0.5)]))
    mjm = ball_spec().compile()
    data = mujoco.MjData(mjm)
    for world, z in ((0, RADIUS - 1e-3), (1, 0.5)):
        data.qpos[:] = _resting(z)
        mujoco.mj_forward(mjm, data)
        mujoco.mj_rnePostConstraint(mjm, data)
        force = float(np.linalg.norm(data.cfrc_ext[1, 3:6]))
        assert float(torch.linalg.vector_norm(env.sim.cfrc_ext[world, 1, 3:6])) == pytest.approx(
            force, rel=1e-3, abs=1e-3
        )
        assert bool(env.reward_manager.term("air").in_contact[world, 0]) == (force > 1.0)


CALLS: list[tuple[str, list[bool], float]] = []


class _Recording(ObservationTerm, RewardTerm, TerminationTerm, EventTerm, CurriculumTerm):
    """A term of any manager that records each ``on_state_set``: its mask and the height of the
    body as the hook sees it (the forward pass must have run before)."""

    def __init__(self, cfg, env):
        self.name = cfg.params["name"]

    def __call__(self, env, *args, **params):
        return torch.zeros(env.num_envs)

    def on_state_set(self, env, mask: torch.Tensor) -> None:
        CALLS.append((self.name, mask.tolist(), float(env.sim.xpos[1, 1, 2])))


class _RecordingAction(mdp.JointEffortAction):
    def on_state_set(self, env, mask):
        CALLS.append(("actions", mask.tolist(), float(env.sim.xpos[1, 1, 2])))


class _RecordingCommand(mdp.UniformVelocityCommand):
    def on_state_set(self, env, mask):
        CALLS.append(("commands", mask.tolist(), float(env.sim.xpos[1, 1, 2])))


def test_every_manager_calls_the_hook_after_the_forward_pass():
    cfg = ball_cfg()
    cfg.actions = {"lift": ActionTermCfg(func=_RecordingAction)}
    cfg.commands["vel"].func = _RecordingCommand
    cfg.observations["policy"].terms["rec"] = ObservationTermCfg(
        func=_Recording, params={"name": "observations"}
    )
    cfg.rewards["rec"] = RewardTermCfg(func=_Recording, weight=1.0, params={"name": "rewards"})
    cfg.terminations["rec"] = TerminationTermCfg(func=_Recording, params={"name": "terminations"})
    cfg.events["rec"] = EventTermCfg(func=_Recording, mode="reset", params={"name": "events"})
    cfg.curriculum["rec"] = CurriculumTermCfg(func=_Recording, params={"name": "curriculum"})
    env = RlEnv(cfg)
    assert isinstance(env.reward_manager.term("rec"), StateSetHook)
    assert not isinstance(mdp.is_alive, StateSetHook)
    CALLS.clear()
    env.set_physical_state(qpos=_resting(0.8), worlds=[1])
    names = ["actions", "rewards", "terminations", "observations", "commands", "events", "curriculum"]
    assert CALLS == [(name, [False, True], pytest.approx(0.8)) for name in names]


# ---------------------------------------------------------------- observation histories
def test_history_replaces_its_newest_entry_mid_episode_and_fills_at_the_start(env):
    env.reset()
    env.set_physical_state(qpos=np.stack([_resting(1.0), _resting(1.0)]))  # at the start: filled
    torch.testing.assert_close(env.observations["policy"][:, :3], torch.ones(2, 3))
    for _ in range(2):
        env.step(_zero(env))  # both fall
    before = env.observations["policy"].clone()
    heights = before[1, :3].tolist()
    assert heights[0] > heights[1] > heights[2]
    obs = env.set_physical_state(qpos=_resting(1.5), worlds=[1])
    # Mid-episode the history keeps its past and shows the new state as its newest entry.
    assert obs["policy"][1, :3].tolist() == pytest.approx([heights[0], heights[1], 1.5])
    assert torch.equal(obs["policy"][0], before[0])
    # The next step appends to that history.
    obs = env.step(_zero(env))[0]
    assert obs["policy"][1, :2].tolist() == pytest.approx([heights[1], 1.5])


def test_the_episode_goes_on(env):
    env.reset()
    for _ in range(3):
        env.step(torch.ones(env.num_envs, env.action_dim))
    kept = {
        "episode_length": env.episode_length_buf.clone(),
        "action": env.action_manager.action.clone(),
        "episode_sums": env.reward_manager.episode_sums.clone(),
        "command": env.command("vel").clone(),
    }
    env.set_physical_state(qpos=_resting(0.4), worlds=[0])
    assert torch.equal(env.episode_length_buf, kept["episode_length"])
    assert torch.equal(env.action_manager.action, kept["action"])
    assert torch.equal(env.reward_manager.episode_sums, kept["episode_sums"])
    assert torch.equal(env.command("vel"), kept["command"])


# ---------------------------------------------------------------- CUDA: the captured step
cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


@pytest.mark.gpu
@cuda
def test_captured_step_reads_a_set_state():
    """A state set after the step was captured as a CUDA graph is what the replayed step starts
    from: the captured env agrees with an eager one given the same state."""
    eager, graphed = task_env_pair("Humanoid-v5", 16, "cuda", "graph_step", episode_length_s=15.0)
    gen = torch.Generator(device="cuda").manual_seed(0)
    for i in range(6):
        action = torch.rand(16, eager.action_dim, generator=gen, device="cuda") * 0.8 - 0.4
        graphed.set_state(eager.get_state())
        assert_steps_agree(eager.step(action), graphed.step(action), atol=1e-3, rtol=1e-4, step=i)
    assert graphed._step_graph.captured, graphed._step_graph.failed
    graphed.set_state(eager.get_state())
    qpos = eager.sim.qpos[:4].clone()
    qpos[:, 0] += 1.0  # 1 m forward: a stale forward-reward cache would add 1 m / 15 ms
    qpos[:, 2] = 1.3
    qvel = torch.zeros(4, eager.sim.qvel.shape[1], device="cuda")
    worlds = torch.tensor([0, 3, 5, 9], device="cuda")
    obs_e = eager.set_physical_state(qpos=qpos, qvel=qvel, worlds=worlds)
    obs_g = graphed.set_physical_state(qpos=qpos, qvel=qvel, worlds=worlds)
    torch.testing.assert_close(obs_e["policy"], obs_g["policy"], atol=1e-3, rtol=1e-4)
    for i in range(3):
        action = torch.rand(16, eager.action_dim, generator=gen, device="cuda") * 0.8 - 0.4
        assert_steps_agree(eager.step(action), graphed.step(action), atol=1e-3, rtol=1e-4, step=i)
    assert graphed._step_graph.captured
    forward = eager.reward_manager.index("forward")
    assert eager.reward_manager.step_terms[worlds, forward].abs().max() < 1.25 * 5.0
