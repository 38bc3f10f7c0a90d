"""Domain randomization: each term changes the dynamics of the worlds it is given, and no other's.

The probe world: an arm on a hinge held horizontal by a position servo (no contacts; gravity makes
it sag by ``m g x_com / kp``, 0.049 rad), and a free box resting on the floor. Each test builds the
env with one term, applied to world 0 only, and a reference env without it (same seed, same
everything else), steps both from identical states with identical actions, and checks that

(a) world 1 is bit-for-bit the reference's world 1 (state, controls, forces, observations);
(b) world 0 differs from the reference as the term predicts (a sag, a force, a slide).

Then: repeated draws stay within nominal x range (no compounding), startup draws survive resets,
and draws are a function of the env's seed.
"""

from __future__ import annotations

import math

import mujoco
import numpy as np
import pytest
import torch

from warplab.envs import (
    ActionTermCfg,
    EventTermCfg,
    NoiseCfg,
    ObservationGroupCfg,
    ObservationTermCfg,
    RlEnv,
    RlEnvCfg,
    mdp,
)
from warplab.sim.model_fields import SET_CONST_OUTPUTS

from ._cfgs import Flag

PROBE_XML = """
<mujoco model="dr_probe">
  <option timestep="0.005"/>
  <worldbody>
    <geom name="floor" type="plane" size="0 0 0.05"/>
    <body name="arm" pos="0 0 1">
      <joint name="shoulder" type="hinge" axis="0 1 0" damping="0.05" armature="0.01"/>
      <geom name="arm" type="capsule" fromto="0 0 0 0.2 0 0" size="0.02" mass="0.5" contype="0" conaffinity="0"/>
    </body>
    <body name="box" pos="0 0 0.05">
      <freejoint name="root"/>
      <geom name="box" type="box" size="0.05 0.05 0.05" mass="1" friction="0.8 0.005 0.0001"/>
    </body>
  </worldbody>
  <actuator>
    <position name="shoulder" joint="shoulder" kp="10" kv="0.5" forcerange="-2 2"/>
  </actuator>
</mujoco>
"""
"""The arm's centre of mass is 0.1 m from the hinge (x); a positive angle lowers it. The box's
free joint is the floating base: qpos[1:4] is its position, qvel[1:4] its velocity."""

ARM_Q, ARM_DOF, BOX_X, BOX_VX = 0, 0, 1, 1
BOX_BODY = 2
SETTLE_STEPS = 25
"""Policy steps (0.02 s each) for the arm's servo to settle (its time constant is about 0.07 s)."""

WORLD0 = torch.tensor([True, False])


def probe_cfg(
    events=None, actions=None, observations=None, num_envs: int = 2, seed: int = 0, terminations=None
):
    cfg = RlEnvCfg(
        scene=lambda: mujoco.MjSpec.from_string(PROBE_XML),
        decimation=4,
        episode_length_s=100.0,
        num_envs=num_envs,
        device="cpu",
        seed=seed,
        observations=observations
        or {
            "policy": ObservationGroupCfg(
                terms={
                    "joint_pos": ObservationTermCfg(func=mdp.joint_pos),
                    "joint_vel": ObservationTermCfg(func=mdp.joint_vel),
                    "box_vel": ObservationTermCfg(func=mdp.base_lin_vel_b),
                }
            )
        },
        actions=actions or {"arm": ActionTermCfg(func=mdp.JointPositionAction)},
        rewards={},
        terminations=terminations or {},
        events=events or {},
    )
    return cfg


def on_world0(func):
    """The event term ``func`` restricted to world 0, whatever mask the event manager passes."""

    def term(env, mask, **params):
        return func(env, mask & (torch.arange(env.num_envs, device=env.device) == 0), **params)

    term.__name__ = f"{func.__name__}_on_world0"
    return term


def rollout(env: RlEnv, actions: list[torch.Tensor]) -> dict[str, torch.Tensor]:
    """Steps ``env`` through ``actions``; returns what decides and shows its dynamics, per step
    ``[steps, num_envs, ...]``."""
    keys = ("qpos", "qvel", "ctrl", "actuator_force", "cfrc_ext")
    out: dict[str, list[torch.Tensor]] = {k: [] for k in (*keys, "obs")}
    for action in actions:
        obs, *_ = env.step(action)
        for k in keys:
            out[k].append(getattr(env.sim, k).clone())
        out["obs"].append(obs["policy"].clone())
    return {k: torch.stack(v) for k, v in out.items()}


def zeros(steps: int) -> list[torch.Tensor]:
    return [torch.zeros(2, 1)] * steps


def compare(events: dict[str, EventTermCfg], actions: list[torch.Tensor], common=None):
    """Runs the probe with ``events`` and without (the reference), both with the ``common`` events;
    checks (a) and returns both envs and runs."""
    env = RlEnv(probe_cfg(events={**(common or {}), **events}))
    ref = RlEnv(probe_cfg(events=common))
    run, ref_run = rollout(env, actions), rollout(ref, actions)
    for key in run:
        assert torch.equal(run[key][:, 1], ref_run[key][:, 1]), f"world 1's {key} differs from the reference"
    return env, ref, run, ref_run


def sag(run) -> torch.Tensor:
    """The arm's settled angle in each world, rad ``[num_envs]``."""
    return run["qpos"][-1, :, ARM_Q]


def box_force_z(run) -> torch.Tensor:
    """The settled vertical contact force on the box in each world, N ``[num_envs]``."""
    return run["cfrc_ext"][-1, :, BOX_BODY, 5]


SLIDE = EventTermCfg(
    func=mdp.reset_root_state_uniform, mode="reset", params={"velocity_range": {"x": (1.0, 1.0)}}
)
"""Starts the box sliding at 1 m/s along x (a degenerate range: no randomness)."""


# ---------------------------------------------------------------------------- per term: (a) and (b)
def test_friction_lower_in_world0_lets_its_box_slide_further():
    events = {
        "friction": EventTermCfg(
            func=on_world0(mdp.randomize_friction), mode="startup", params={"ranges": (0.3, 0.3)}
        ),
    }
    env, ref, run, ref_run = compare(events, zeros(SETTLE_STEPS), common={"slide": SLIDE})
    nominal = torch.as_tensor(env.mj_model.geom_friction, dtype=torch.float32)
    friction = env.sim.model_field("geom_friction")
    # One factor for every geom of world 0 (floor, box, arm): the box-floor contact takes 0.3 * max(1.0, 0.8).
    torch.testing.assert_close(friction[0, :, 0], 0.3 * nominal[:, 0])
    assert torch.equal(friction[1], nominal)
    slid = run["qpos"][-1, :, BOX_X]
    # At rest after sliding from 1 m/s: d = v^2 / (2 mu g); 0.17 m at mu = 0.3 against 0.064 m at 0.8.
    assert ref_run["qvel"][-1, 0, BOX_VX].abs() < 1e-3 and run["qvel"][-1, 0, BOX_VX].abs() < 1e-3
    assert slid[0] == pytest.approx(1.0 / (2 * 0.3 * 9.81), rel=0.15)
    assert slid[0] > 2.5 * ref_run["qpos"][-1, 0, BOX_X]


def test_heavier_world0_sags_and_presses_the_floor_harder():
    events = {
        "mass": EventTermCfg(
            func=on_world0(mdp.randomize_mass), mode="startup", params={"ranges": (2.0, 2.0)}
        )
    }
    env, ref, run, ref_run = compare(events, zeros(SETTLE_STEPS))
    m = env.mj_model
    mass, inertia = env.sim.model_field("body_mass"), env.sim.model_field("body_inertia")
    torch.testing.assert_close(mass[0, 1:], 2 * torch.as_tensor(m.body_mass[1:], dtype=torch.float32))
    torch.testing.assert_close(inertia[0, 1:], 2 * torch.as_tensor(m.body_inertia[1:], dtype=torch.float32))
    assert torch.equal(mass[1], torch.as_tensor(m.body_mass, dtype=torch.float32))
    assert torch.equal(inertia[1], torch.as_tensor(m.body_inertia, dtype=torch.float32))
    # The servo holds twice the gravity torque with twice the error; the floor carries twice the weight.
    assert sag(run)[0] / sag(ref_run)[0] == pytest.approx(2.0, rel=0.05)
    assert box_force_z(run)[0] == pytest.approx(2 * 1.0 * 9.81, rel=0.01)
    assert box_force_z(ref_run)[0] == pytest.approx(9.81, rel=0.01)


def test_set_const_leaves_the_constants_of_other_worlds_bit_for_bit():
    env = RlEnv(probe_cfg())
    mdp.randomize_mass(env, WORLD0, (2.0, 2.0))
    for name, value in env.sim.fields.arrays().items():
        if name in SET_CONST_OUTPUTS:
            compiled = torch.as_tensor(np.asarray(getattr(env.mj_model, name)), dtype=value.dtype)
            assert torch.equal(value[1], compiled.reshape(value[1].shape)), name
    # World 0's were recomputed: its subtree masses doubled.
    torch.testing.assert_close(
        env.sim.fields.arrays()["body_subtreemass"][0, 1:],
        2 * torch.as_tensor(env.mj_model.body_subtreemass[1:], dtype=torch.float32),
    )


def test_centre_of_mass_further_out_in_world0_sags_its_arm_more():
    events = {
        "com": EventTermCfg(
            func=on_world0(mdp.randomize_com),
            mode="startup",
            params={"ranges": {"x": (0.02, 0.02)}, "bodies": "arm"},
        )
    }
    env, ref, run, ref_run = compare(events, zeros(SETTLE_STEPS))
    ipos, ipos0 = (
        env.sim.model_field("body_ipos"),
        torch.as_tensor(env.mj_model.body_ipos, dtype=torch.float32),
    )
    torch.testing.assert_close(ipos[0, 1], ipos0[1] + torch.tensor([0.02, 0.0, 0.0]))
    assert torch.equal(ipos[1], ipos0) and torch.equal(ipos[0, 2], ipos0[2])
    # Gravity's torque grows with the lever arm, 0.12 m instead of 0.10 m.
    assert sag(run)[0] / sag(ref_run)[0] == pytest.approx(1.2, rel=0.03)


def test_stiffer_pd_gains_in_world0_halve_its_sag():
    events = {
        "pd": EventTermCfg(
            func=on_world0(mdp.randomize_pd_gains),
            mode="startup",
            params={"kp_range": (2.0, 2.0), "kd_range": (1.5, 1.5)},
        )
    }
    env, ref, run, ref_run = compare(events, zeros(SETTLE_STEPS))
    gain, bias = env.sim.model_field("actuator_gainprm"), env.sim.model_field("actuator_biasprm")
    assert gain[:, 0, 0].tolist() == [20.0, 10.0]
    assert bias[:, 0, 1].tolist() == [-20.0, -10.0]
    assert bias[:, 0, 2].tolist() == [-0.75, -0.5]
    assert sag(run)[0] / sag(ref_run)[0] == pytest.approx(0.5, rel=0.03)


def test_weaker_motor_in_world0_sags_more_and_saturates_at_its_scaled_limit():
    events = {
        "strength": EventTermCfg(
            func=on_world0(mdp.randomize_motor_strength), mode="startup", params={"ranges": (0.5, 0.5)}
        )
    }
    # Settle, then ask for 1.5 rad: kp * 1.5 = 15 N m, beyond either world's torque limit.
    actions = zeros(SETTLE_STEPS) + [torch.full((2, 1), 1.5)]
    env, ref, run, ref_run = compare(events, actions)
    assert env.sim.model_field("actuator_forcerange")[:, 0].tolist() == [[-1.0, 1.0], [-2.0, 2.0]]
    assert env.sim.model_field("actuator_gainprm")[:, 0, 0].tolist() == [5.0, 10.0]
    assert env.sim.model_field("actuator_biasprm")[:, 0, 1:3].tolist() == [[-5.0, -0.25], [-10.0, -0.5]]
    # Half the stiffness: twice the sag under the same gravity torque.
    assert run["qpos"][-2, 0, ARM_Q] / ref_run["qpos"][-2, 0, ARM_Q] == pytest.approx(2.0, rel=0.05)
    # Saturated: the actuator gives its limit, half the nominal one.
    assert run["actuator_force"][-1, 0, 0].item() == 1.0
    assert ref_run["actuator_force"][-1, 0, 0].item() == 2.0


def test_more_joint_damping_in_world0_slows_its_arm_and_costs_force():
    events = {
        "damping": EventTermCfg(
            func=on_world0(mdp.randomize_joint_damping), mode="startup", params={"ranges": (20.0, 20.0)}
        )
    }
    # From rest at 0 rad, a target of 0.3 rad: the damped arm gets less far in 0.06 s.
    env, ref, run, ref_run = compare(events, [torch.full((2, 1), 0.3)] * 3)
    assert env.sim.model_field("dof_damping")[:, ARM_DOF].tolist() == pytest.approx([1.0, 0.05])
    assert 0 < run["qpos"][-1, 0, ARM_Q] < 0.8 * ref_run["qpos"][-1, 0, ARM_Q]
    # The damping force is the new coefficient times the joint's speed.
    damper = torch.as_tensor(env.sim.data.qfrc_damper.numpy())
    torch.testing.assert_close(damper[:, ARM_DOF], -torch.tensor([1.0, 0.05]) * env.sim.qvel[:, ARM_DOF])


def test_more_armature_in_world0_slows_its_arm():
    events = {
        "armature": EventTermCfg(
            func=on_world0(mdp.randomize_armature), mode="startup", params={"ranges": (5.0, 5.0)}
        )
    }
    actions = zeros(SETTLE_STEPS) + [torch.full((2, 1), 0.3)]
    env, ref, run, ref_run = compare(events, actions)
    assert env.sim.model_field("dof_armature")[:, ARM_DOF].tolist() == pytest.approx([0.05, 0.01])
    invweight = env.sim.fields.arrays()["dof_invweight0"]
    assert invweight[0, ARM_DOF] < invweight[1, ARM_DOF]
    # One policy step after the new target, the heavier rotor (0.057 kg m^2 against 0.017 about the
    # hinge) has moved much less.
    moved = run["qpos"][-1, 0, ARM_Q] - run["qpos"][-2, 0, ARM_Q]
    moved_ref = ref_run["qpos"][-1, 0, ARM_Q] - ref_run["qpos"][-2, 0, ARM_Q]
    assert 0 < moved < 0.5 * moved_ref


def test_weaker_gravity_in_world0_halves_its_sag_and_weight():
    events = {
        "gravity": EventTermCfg(
            func=on_world0(mdp.randomize_gravity), mode="startup", params={"ranges": (4.905, 4.905)}
        )
    }
    env, ref, run, ref_run = compare(events, zeros(SETTLE_STEPS))
    assert env.sim.model_field("opt.gravity")[:, 2].tolist() == pytest.approx([-4.905, -9.81])
    assert sag(run)[0] / sag(ref_run)[0] == pytest.approx(0.5, rel=0.03)
    assert box_force_z(run)[0] == pytest.approx(4.905, rel=0.01)


def test_push_on_world0_kicks_its_box_once():
    events = {
        "push": EventTermCfg(
            func=on_world0(mdp.push_by_setting_velocity),
            mode="interval",
            interval_range_s=(0.09, 0.09),  # runs out in the 5th policy step of 0.02 s
            params={"velocity_range": {"x": (1.0, 1.0)}},
        )
    }
    env, ref, run, ref_run = compare(events, zeros(8))
    kick = run["qvel"][:, 0, BOX_VX] - ref_run["qvel"][:, 0, BOX_VX]
    assert torch.equal(kick[:4], torch.zeros(4))
    assert kick[4].item() == pytest.approx(1.0, abs=1e-6)  # after the 5th step, as its timer ran out
    assert (run["qpos"][-1, 0, BOX_X] - ref_run["qpos"][-1, 0, BOX_X]) > 0.02


def test_observation_noise_corrupts_the_policy_group_only():
    scale = 0.05

    def groups(noisy: bool):
        noise = NoiseCfg("uniform", scale) if noisy else None
        terms = {"joint_pos": ObservationTermCfg(func=mdp.joint_pos, noise=noise)}
        return {
            "policy": ObservationGroupCfg(terms=terms, enable_corruption=True),
            "critic": ObservationGroupCfg(
                terms={"joint_pos": ObservationTermCfg(func=mdp.joint_pos, noise=noise)}
            ),
        }

    actions = [torch.full((2, 1), 0.1)] * 10
    env, ref = RlEnv(probe_cfg(observations=groups(True))), RlEnv(probe_cfg(observations=groups(False)))
    diffs = []
    for action in actions:
        obs, *_ = env.step(action)
        ref_obs, *_ = ref.step(action)
        # Noise is read, never written: the physics of every world is the reference's.
        assert torch.equal(env.sim.qpos, ref.sim.qpos) and torch.equal(env.sim.qvel, ref.sim.qvel)
        assert torch.equal(obs["critic"], ref_obs["critic"])
        diffs.append(obs["policy"][:, ARM_Q] - ref_obs["policy"][:, ARM_Q])
    diffs = torch.stack(diffs)
    assert (diffs.abs() <= scale).all() and (diffs != 0).all()
    assert not torch.equal(diffs[:, 0], diffs[:, 1])  # each world draws its own


# ---------------------------------------------------------------------------- action delay
def delayed(max_delay_steps: int, min_delay_steps: int = 0) -> dict[str, ActionTermCfg]:
    params = {"max_delay_steps": max_delay_steps, "min_delay_steps": min_delay_steps}
    return {"arm": ActionTermCfg(func=mdp.DelayedJointPositionAction, params=params)}


def random_actions(steps: int, num_envs: int = 2, seed: int = 1) -> list[torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return [0.5 * torch.rand(num_envs, 1, generator=gen) - 0.25 for _ in range(steps)]


def test_delayed_action_reaches_the_joint_k_steps_later():
    actions = random_actions(12)
    env = RlEnv(probe_cfg(actions=delayed(3)))
    ref = RlEnv(probe_cfg())
    term = env.action_manager.terms["arm"]
    assert ((term.delay >= 0) & (term.delay <= 3)).all()
    # Worlds draw their own delays; fix them here to see one delayed world beside an undelayed one.
    term.delay.copy_(torch.tensor([2, 0]))
    run, ref_run = rollout(env, actions), rollout(ref, actions)
    for key in run:
        assert torch.equal(run[key][:, 1], ref_run[key][:, 1]), key
    # World 0's target at step t is the action of step t - 2 (the first action until two exist).
    expected = torch.stack([actions[max(t - 2, 0)][0] for t in range(len(actions))])
    assert torch.equal(run["ctrl"][:, 0], expected)
    assert not torch.equal(run["qpos"][:, 0], ref_run["qpos"][:, 0])


def test_delay_restarts_from_the_first_target_of_the_episode():
    flag = Flag(2)
    env = RlEnv(probe_cfg(actions=delayed(2, 2), terminations={"reset": flag.cfg()}))
    term = env.action_manager.terms["arm"]
    actions = random_actions(10)
    ctrl = []
    for t, action in enumerate(actions):
        flag.flag[:] = torch.tensor([t == 4, False])  # world 0 ends its episode in step 4
        env.step(action)
        # The targets the step applied (the reset after step 4 zeroes world 0's ``ctrl``).
        ctrl.append(term.target[:, 0].clone())
    ctrl = torch.stack(ctrl)
    first = [0, 0, 0, 1, 2, 5, 5, 5, 6, 7]  # step 5 starts world 0's second episode
    assert torch.equal(ctrl[:, 0], torch.stack([actions[i][0, 0] for i in first]))
    assert torch.equal(ctrl[:, 1], torch.stack([actions[max(t - 2, 0)][1, 0] for t in range(10)]))


def test_delays_are_drawn_per_world_at_reset_from_the_seed():
    def draws(seed):
        env = RlEnv(probe_cfg(actions=delayed(3), num_envs=3, seed=seed))
        term = env.action_manager.terms["arm"]
        out = [term.delay.clone()]
        for _ in range(30):
            before = term.delay.clone()
            env.action_manager.reset(torch.tensor([True, True, False]))
            assert term.delay[2] == before[2]  # a world that does not reset keeps its delay
            out.append(term.delay.clone())
        return torch.stack(out)

    a, b, c = draws(0), draws(0), draws(1)
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert set(a[:, :2].flatten().tolist()) == {0, 1, 2, 3}


def test_zero_delay_is_joint_position_action_exactly():
    actions = random_actions(6)
    run = rollout(RlEnv(probe_cfg(actions=delayed(0))), actions)
    ref_run = rollout(RlEnv(probe_cfg()), actions)
    for key in run:
        assert torch.equal(run[key], ref_run[key]), key


def test_delay_buffers_are_saved_with_the_env_state():
    env = RlEnv(probe_cfg(actions=delayed(3)))
    actions = random_actions(8)
    for action in actions[:3]:
        env.step(action)
    state = env.get_state()
    assert {"actions.terms.arm.history", "actions.terms.arm.delay", "actions.terms.arm.head"} <= set(
        state["tensors"]
    )
    first = [env.step(a)[0]["policy"].clone() for a in actions[3:]]
    env.set_state(state)
    again = [env.step(a)[0]["policy"].clone() for a in actions[3:]]
    assert all(torch.equal(x, y) for x, y in zip(first, again, strict=True))


# ---------------------------------------------------------------------------- across terms
def _nominal(env, field):
    return env.sim.fields.default(field)


# Each model-field term with a range, and the fields it draws with their allowed bounds as
# (field, index into the field, low factor or offset, high, "scale" or "add").
TERMS = {
    "friction": (
        mdp.randomize_friction,
        {"ranges": (0.5, 1.5)},
        [("geom_friction", (slice(None), 0), 0.5, 1.5, "scale")],
    ),
    "mass": (
        mdp.randomize_mass,
        {"ranges": (0.8, 1.2)},
        [
            ("body_mass", slice(1, None), 0.8, 1.2, "scale"),
            ("body_inertia", slice(1, None), 0.8, 1.2, "scale"),
        ],
    ),
    "com": (
        mdp.randomize_com,
        {"ranges": (-0.02, 0.02)},
        [("body_ipos", slice(1, None), -0.02, 0.02, "add")],
    ),
    "pd_gains": (
        mdp.randomize_pd_gains,
        {"kp_range": (0.8, 1.2), "kd_range": (0.7, 1.3)},
        [("actuator_gainprm", (0, 0), 0.8, 1.2, "scale"), ("actuator_biasprm", (0, 2), 0.7, 1.3, "scale")],
    ),
    "motor_strength": (
        mdp.randomize_motor_strength,
        {"ranges": (0.8, 1.2)},
        [("actuator_forcerange", 0, 0.8, 1.2, "scale"), ("actuator_gainprm", (0, 0), 0.8, 1.2, "scale")],
    ),
    "damping": (
        mdp.randomize_joint_damping,
        {"ranges": (0.5, 1.5)},
        [("dof_damping", ARM_DOF, 0.5, 1.5, "scale")],
    ),
    "armature": (
        mdp.randomize_armature,
        {"ranges": (0.5, 1.5)},
        [("dof_armature", ARM_DOF, 0.5, 1.5, "scale")],
    ),
    "gravity": (mdp.randomize_gravity, {"ranges": (-1.0, 1.0)}, [("opt.gravity", 2, -1.0, 1.0, "add")]),
}


def _check_bounds(env, checks, world: int):
    for field, index, low, high, kind in checks:
        value = env.sim.model_field(field)[world][index]
        nominal = _nominal(env, field)[index]
        if kind == "scale":
            lo, hi = (
                torch.minimum(nominal * low, nominal * high),
                torch.maximum(nominal * low, nominal * high),
            )
        else:
            lo, hi = nominal + low, nominal + high
        tol = 1e-6 * nominal.abs() + 1e-7
        assert ((value >= lo - tol) & (value <= hi + tol)).all(), (field, value, nominal)


@pytest.mark.parametrize("name", list(TERMS))
def test_repeated_draws_do_not_compound(name):
    func, params, checks = TERMS[name]
    env = RlEnv(probe_cfg())
    seen = []
    for _ in range(6):  # as at six resets of world 0
        func(env, WORLD0, **params)
        _check_bounds(env, checks, world=0)
        for field, *_ in checks:
            assert torch.equal(env.sim.model_field(field)[1], _nominal(env, field)), field
        seen.append(env.sim.model_field(checks[0][0])[0][checks[0][1]].clone())
    assert not torch.equal(seen[0], seen[-1])


def test_pd_gains_and_motor_strength_keep_each_others_factor():
    env = RlEnv(probe_cfg())
    for _ in range(3):
        mdp.randomize_motor_strength(env, WORLD0, (0.5, 0.5))
        mdp.randomize_pd_gains(env, WORLD0, (2.0, 2.0), (3.0, 3.0))
    gain, bias = env.sim.model_field("actuator_gainprm"), env.sim.model_field("actuator_biasprm")
    # kp = 10 * 2 * 0.5, kd = 0.5 * 3 * 0.5 whichever ran last.
    assert gain[0, 0, 0].item() == pytest.approx(10.0) and bias[0, 0, 2].item() == pytest.approx(-0.75)
    mdp.randomize_motor_strength(env, WORLD0, (0.25, 0.25))
    assert gain[0, 0, 0].item() == pytest.approx(5.0) and bias[0, 0, 1].item() == pytest.approx(-5.0)
    assert bias[0, 0, 2].item() == pytest.approx(-0.375)
    assert env.sim.model_field("actuator_forcerange")[0, 0].tolist() == [-0.5, 0.5]


def test_motor_strength_and_pd_gains_refuse_actuators_they_cannot_scale():
    # The servo without a torque limit, and a torque motor beside it.
    xml = PROBE_XML.replace(' forcerange="-2 2"', "").replace(
        "</actuator>", '<motor name="spin" joint="shoulder"/></actuator>'
    )
    cfg = probe_cfg(
        actions={"arm": ActionTermCfg(func=mdp.JointPositionAction, params={"actuators": "shoulder"})}
    )
    cfg.scene = lambda: mujoco.MjSpec.from_string(xml)
    env = RlEnv(cfg)
    with pytest.raises(ValueError, match=r"\['shoulder'\] have no force limit"):
        mdp.randomize_motor_strength(env, WORLD0, (0.9, 1.1), actuators="shoulder")
    with pytest.raises(ValueError, match=r"\['spin'\] are not position actuators"):
        mdp.randomize_pd_gains(env, WORLD0, (0.9, 1.1), (0.9, 1.1), actuators="spin")


def test_friction_shares_one_factor_per_world_unless_per_geom():
    env = RlEnv(probe_cfg())
    nominal = _nominal(env, "geom_friction")[:, 0]
    mdp.randomize_friction(env, WORLD0, (0.5, 1.5))
    ratio = env.sim.model_field("geom_friction")[0, :, 0] / nominal
    torch.testing.assert_close(ratio, ratio[:1].expand_as(ratio))
    mdp.randomize_friction(env, WORLD0, (0.5, 1.5), per_geom=True)
    ratio = env.sim.model_field("geom_friction")[0, :, 0] / nominal
    assert len(set(ratio.tolist())) == len(ratio)


def _all_startup_events() -> dict[str, EventTermCfg]:
    return {
        name: EventTermCfg(func=func, mode="startup", params=params)
        for name, (func, params, _) in TERMS.items()
    }


def _randomized_fields(env) -> dict[str, torch.Tensor]:
    return {name: value.clone() for name, value in env.sim.fields.arrays().items()}


def test_startup_draws_survive_resets_and_follow_the_seed():
    flag = Flag(2)
    env = RlEnv(probe_cfg(events=_all_startup_events(), terminations={"reset": flag.cfg()}))
    drawn = _randomized_fields(env)
    # Every world is reset three times; startup draws are not redrawn.
    for t in range(6):
        flag.flag[:] = t % 2 == 0
        env.step(torch.zeros(2, 1))
    after = _randomized_fields(env)
    assert set(after) == set(drawn)
    for name, value in drawn.items():
        assert torch.equal(after[name], value), name
    # The same seed draws the same worlds; another seed, other worlds.
    same = _randomized_fields(RlEnv(probe_cfg(events=_all_startup_events())))
    other = _randomized_fields(RlEnv(probe_cfg(events=_all_startup_events(), seed=1)))
    for name, value in drawn.items():
        assert torch.equal(same[name], value), name
    assert not torch.equal(other["body_mass"], drawn["body_mass"])
    assert not torch.equal(other["geom_friction"], drawn["geom_friction"])
    assert not math.isclose(float(other["opt.gravity"][0, 2]), float(drawn["opt.gravity"][0, 2]))
