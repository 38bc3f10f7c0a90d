"""What ``Policy.observation``, ``actions``, ``targets`` and ``act`` do with bad inputs: a value that is
not finite raises ``NonFiniteError`` naming the entries and changes no state; an observation of the
wrong size, rank or type raises ``PolicyError`` naming the expected and given shapes; nothing ever
returns NaN or leaks an onnxruntime error."""

from __future__ import annotations

import math

import numpy as np
import pytest

from warplab.deploy import NonFiniteError, Policy, PolicyError

from ._policy_files import cartpole_metadata, linear_graph, write_policy

GOOD = {"joint_pos": {"slider": 0.1, "hinge": -0.05}, "joint_vel": {"slider": 0.2, "hinge": 0.3}}


@pytest.fixture
def policy(tmp_path) -> Policy:
    """The cart-pole's metadata on ``actions = 0.25 * sum(obs)``."""
    return Policy.load(write_policy(tmp_path / "p.onnx", linear_graph(weight=0.25), cartpole_metadata()))


def _history_policy(tmp_path) -> Policy:
    """Joint positions stacked over 2 steps (6 observations), as a policy with a history reads them."""
    meta = cartpole_metadata(observation_size=6)
    meta["observation_terms"][0].update(size=4, history_length=2)
    return Policy.load(write_policy(tmp_path / "h.onnx", linear_graph(obs_dim=6, weight=0.25), meta))


def _with(signal: str, joint: str, value: float) -> dict:
    return {**GOOD, signal: {**GOOD[signal], joint: value}}


def test_a_nan_signal_is_named_and_no_target_is_made(policy):
    # The case: a NaN in the observation became NaN joint targets.
    with pytest.raises(NonFiniteError) as error:
        policy.observation(_with("joint_vel", "hinge", math.nan))
    assert "joint_vel[hinge] = nan" in str(error.value) and error.value.where == ["joint_vel[hinge] = nan"]
    with pytest.raises(
        NonFiniteError, match=r"observation not finite \(as float32\) at joint_vel\[hinge\] = nan"
    ):
        policy.act(np.array([0.1, -0.05, 0.2, math.nan]))
    assert not policy.last_action.any()


def test_an_infinite_signal_is_refused_even_where_a_clip_would_hide_it(tmp_path):
    meta = cartpole_metadata()
    meta["observation_terms"][1]["clip"] = [-5.0, 5.0]
    policy = Policy(None, meta, "clipped.onnx")
    with pytest.raises(NonFiniteError, match=r"joint_vel\[slider\] = inf"):
        policy.observation(_with("joint_vel", "slider", math.inf))
    # Finite values beyond the clip are clipped, as in the env.
    np.testing.assert_allclose(policy.observation(_with("joint_vel", "slider", 50.0))[2], 5.0)


def test_an_infinite_height_is_refused_although_the_scan_clips_it():
    # A height scan is always clipped (its params.clip): an infinity must be caught before that.
    meta = cartpole_metadata(observation_size=6)
    scan = {"name": "height_scan", "func": "height_scan", "signal": "height_scan", "size": 2, "scale": 1.0}
    scan.update(
        clip=None, history_length=0, params={"grid_xy": [[0.1, 0.0], [0.2, 0.0]], "clip": [-1.0, 1.0]}
    )
    meta["observation_terms"].append(scan)
    policy = Policy(None, meta, "scan.onnx")
    with pytest.raises(NonFiniteError, match=r"height_scan\[1\] = -inf"):
        policy.observation({**GOOD, "height_scan": [0.5, -math.inf]})
    np.testing.assert_allclose(policy.observation({**GOOD, "height_scan": [0.5, -7.0]})[4:], [0.5, -1.0])


def test_a_scale_that_overflows_float32_is_refused():
    meta = cartpole_metadata()
    meta["observation_terms"][0]["scale"] = 1e30
    policy = Policy(None, meta, "scaled.onnx")
    with pytest.raises(NonFiniteError, match=r"joint_pos\[hinge\] = -inf \(times its scale 1e\+30\)"):
        policy.observation(_with("joint_pos", "hinge", -1e9))
    # A float64 beyond float32's range is refused as what it becomes, not passed on.
    with pytest.raises(NonFiniteError, match=r"joint_pos\[slider\] = inf"):
        Policy(None, cartpole_metadata(), "big.onnx").observation(_with("joint_pos", "slider", 1e39))


def test_a_bad_tick_leaves_the_histories_and_last_action_as_they_were(tmp_path):
    clean, faulty = _history_policy(tmp_path), _history_policy(tmp_path)
    later = _with("joint_pos", "slider", 0.7)
    for p in (clean, faulty):
        p.act(p.observation(GOOD))
    before = faulty.last_action.copy()
    with pytest.raises(NonFiniteError):
        faulty.observation(_with("joint_pos", "hinge", math.nan))
    # A signal that is missing in a later term also leaves the earlier terms' histories alone.
    with pytest.raises(PolicyError, match="'joint_vel', which is missing"):
        faulty.observation({"joint_pos": later["joint_pos"]})
    np.testing.assert_array_equal(faulty.last_action, before)
    np.testing.assert_array_equal(faulty.observation(later), clean.observation(later))


def test_a_network_that_gives_nan_is_caught(tmp_path):
    # sqrt(-|obs @ W|): 0 for the zero observation load tries, NaN for almost any other.
    path = write_policy(tmp_path / "p.onnx", linear_graph(nan_where_negative=True), cartpole_metadata())
    policy = Policy.load(path)
    with pytest.raises(NonFiniteError) as error:
        policy.act(np.array([0.5, 0.0, 0.0, 0.0]))
    assert "the network gave non-finite actions at slider = nan for a finite observation" in str(error.value)
    assert not policy.last_action.any()
    with pytest.raises(NonFiniteError, match="row 1 slider = nan"):
        policy.actions(np.array([[0.0] * 4, [0.5, 0, 0, 0]]))


def test_targets_never_hold_nan_or_inf(policy, tmp_path):
    with pytest.raises(NonFiniteError, match=r"actions not finite \(as float32\) at slider = nan"):
        policy.targets([math.nan])
    big = Policy.load(
        write_policy(tmp_path / "big.onnx", linear_graph(), cartpole_metadata(action_scale=[1e38]))
    )
    with pytest.raises(NonFiniteError, match="targets overflow float32 at slider = inf"):
        big.targets([10.0])
    np.testing.assert_allclose(big.targets([0.5]), [5e37], rtol=1e-6)


@pytest.mark.parametrize(
    ("obs", "message"),
    [
        (
            np.zeros(5),
            r"observation has shape \[5\]; the policy takes \[4\] or \[batch, 4\] \(joint_pos 2 \+ joint_vel 2\)",
        ),
        (np.zeros((2, 3)), r"observation has shape \[2, 3\]; the policy takes \[4\] or \[batch, 4\]"),
        (np.zeros((2, 2, 4)), r"observation has shape \[2, 2, 4\]"),
        (np.zeros((0, 4)), r"observation has shape \[0, 4\]"),
        (np.float32(1.0), r"observation has shape \[\]"),
        (["a", "b", "c", "d"], "observation holds <U1 values; give numbers"),
        (np.zeros(4, dtype=bool), "observation holds bool values; give numbers"),
        (np.zeros(4, dtype=complex), "observation holds complex128 values; give numbers"),
        ([[1.0], [1.0, 2.0]], "observation is not an array of numbers"),
        ({"obs": 1}, "observation holds object values"),
    ],
)
def test_observations_of_the_wrong_shape_or_type_are_named(policy, obs, message):
    with pytest.raises(PolicyError, match=message) as error:
        policy.actions(obs)
    assert str(error.value).startswith("policy ") and "\n" not in str(error.value)


def test_lists_and_other_number_types_are_accepted(policy):
    expected = policy.act(np.array([0.1, 0.2, 0.3, 0.4], dtype=np.float32))
    np.testing.assert_allclose(policy.act([0.1, 0.2, 0.3, 0.4]), expected)
    np.testing.assert_allclose(policy.act(np.array([0.1, 0.2, 0.3, 0.4])), expected)
    np.testing.assert_allclose(policy.act(np.array([1, 0, 0, 0])), [0.25])
    assert policy.actions(np.zeros((3, 4))).shape == (3, 1)


def test_act_takes_one_observation(policy):
    with pytest.raises(PolicyError, match=r"act takes one observation of shape \[4\], given shape \[1, 4\]"):
        policy.act(np.zeros((1, 4)))
    with pytest.raises(PolicyError, match=r"actions have shape \[2\]; targets need \[1\] or \[batch, 1\]"):
        policy.targets(np.zeros(2))


@pytest.mark.parametrize(
    ("signals", "message"),
    [
        ([1.0, 2.0], "signals must be a dict of named signals"),
        ({**GOOD, "joint_pos": [0.1, 0.2]}, "signal 'joint_pos' must map joint names to values, got list"),
        (_with("joint_vel", "hinge", "fast"), "signal 'joint_vel' holds <U32 values; give numbers"),
        (_with("joint_vel", "hinge", [1.0, 2.0]), "signal 'joint_vel' is not an array of numbers"),
    ],
)
def test_signals_of_the_wrong_type_are_named(policy, signals, message):
    with pytest.raises(PolicyError, match=message):
        policy.observation(signals)


def test_robot_joints_must_be_a_list_of_names(tmp_path):
    path = write_policy(tmp_path / "p.onnx", linear_graph(), cartpole_metadata())
    assert Policy.load(path, joint_names=["slider"]).joint_names == ["slider"]
    with pytest.raises(
        PolicyError, match="joint_names must be a list of the robot's joint names, got 'slider'"
    ):
        Policy.load(path, joint_names="slider")


def test_float32_arrays_given_are_read_not_kept(tmp_path):
    # float32 arrays are used as given, without a copy: the policy must keep none of them, or a
    # robot's driver reusing its buffer would rewrite the histories, last_action or a past result.
    policy = _history_policy(tmp_path)
    signals = {"joint_pos": GOOD["joint_pos"], "joint_vel": GOOD["joint_vel"]}
    first = policy.observation(signals)
    obs = np.array(first, dtype=np.float32)
    targets = policy.act(obs)
    kept = first.copy(), targets.copy(), policy.last_action.copy()
    obs[:] = 7.0
    np.testing.assert_array_equal(policy.last_action, kept[2])
    np.testing.assert_array_equal(targets, kept[1])
    np.testing.assert_array_equal(policy.observation(signals), kept[0])  # The history held the first.
