"""``warplab sim2sim`` with effort actions: the cart-pole's policy exported from a checkpoint runs to
the end with a report, its motor gets the force training gave it, the task's joint-range terminations
end an episode, and what sim2sim cannot run (efforts on servos, actions of another kind, a network
that gives NaN, a simulation that diverges) ends in one clear line or a named episode end."""

from __future__ import annotations

import json

import mujoco
import numpy as np
import onnx
import pytest

from warplab.cli.main import main
from warplab.deploy import Policy
from warplab.deploy.sim2sim import Sim2Sim, Sim2SimCfg, run_sim2sim
from warplab.deploy.sim2sim_model import Sim2SimError, load_model

from ._policy_files import edit_metadata, linear_graph, replace_graph


def _scene(policy_path, tmp_path, edit) -> str:
    """The policy's embedded scene with ``edit(spec)`` applied, written as an MJCF file."""
    spec = mujoco.MjSpec.from_string(Policy.load(policy_path).metadata["scene"]["xml"])
    edit(spec)
    spec.compile()
    path = tmp_path / "scene.xml"
    path.write_text(spec.to_xml())
    return str(path)


def test_the_cartpole_policy_runs_to_the_end_on_the_cli(cartpole_onnx, tmp_path, capsys):
    # The case: "joint 'slider': a motor, and the policy gives no kp for it".
    out = tmp_path / "report.json"
    argv = [
        "sim2sim",
        "--policy",
        str(cartpole_onnx),
        "--episodes",
        "2",
        "--seconds",
        "3",
        "--json-out",
        str(out),
    ]
    assert main(argv) == 0
    report = json.loads(out.read_text())
    assert report["task"] == "cartpole-balance" and report["model"] == "scene of cartpole-balance (embedded)"
    assert report["decimation"] == 2 and report["policy_dt"] == pytest.approx(0.02)
    assert report["settings"]["joint_ranges"] == {"hinge": [-0.4, 0.4], "slider": [-2.5, 2.5]}
    assert report["summary"]["episodes"] == 2
    for episode in report["episodes"]:
        assert episode["end"] in ("time", "fall") and episode["fault"] is None
        assert episode["fell"] == (episode["survival_s"] < 3.0 - 1e-9)
    assert "sim2sim: " in capsys.readouterr().out


def test_effort_targets_reach_the_motor_as_training_sent_them(cartpole_onnx):
    # Training: ctrl = scale * action, clamped to [-1, 1] by MuJoCo, times gear 20 on the slider.
    policy = Policy.load(cartpole_onnx)
    assert policy.action_kind == ["effort"] and policy.metadata["effort_per_target"] == [20.0]
    model, _ = load_model(policy)
    # One model for several checks, as benchmarks/sim2sim_grid.py runs them: no strength compounds.
    for strength in (1.0, 0.5, 0.5, 1.0):
        check = Sim2Sim(policy, model, Sim2SimCfg(motor_strength=strength))
        assert check.robot.effort.all() and not check.robot.servo.any() and not check.robot.pd.any()
        assert check.robot.sensed_joints == ["slider", "hinge"]
        slider = int(check.robot.dof_adr[0])
        for target, force in ((0.3, 6.0), (-0.6, -12.0), (2.0, 20.0)):
            mujoco.mj_resetData(check.model, check.data)
            check.actuate(np.array([target], dtype=np.float32))
            mujoco.mj_forward(check.model, check.data)
            assert check.data.qfrc_actuator[slider] == pytest.approx(strength * force, rel=1e-6)


def test_a_pole_pushed_hard_falls_and_a_still_one_stands(cartpole_onnx, tmp_path):
    # Constant full push: the pole leans back past 0.4 rad, the task's own termination, within a second.
    push = replace_graph(cartpole_onnx, tmp_path / "push.onnx", linear_graph(weight=0.0, bias=1.0))
    report = run_sim2sim(push, Sim2SimCfg(seconds=3.0, episodes=1))
    assert report["episodes"][0]["end"] == "fall" and report["summary"]["survival_s_min"] < 1.0
    # No push: the pole starts upright at rest and stays there for the whole episode.
    still = replace_graph(cartpole_onnx, tmp_path / "still.onnx", linear_graph(weight=0.0))
    report = run_sim2sim(still, Sim2SimCfg(seconds=3.0, episodes=1))
    assert report["episodes"][0]["end"] == "time" and report["summary"]["falls"] == 0


def test_a_file_from_before_action_kinds_runs_the_same(cartpole_onnx, tmp_path):
    # Older files: the kind from the action term's type, the effort per target from the model, the
    # joint ranges from the task registry.
    old = edit_metadata(
        cartpole_onnx, tmp_path / "old.onnx", fall={"min_base_height": None, "max_tilt_rad": None}
    )
    proto = onnx.load(str(old))
    kept = [p for p in proto.metadata_props if p.key not in ("action_kind", "effort_per_target")]
    del proto.metadata_props[:]
    proto.metadata_props.extend(kept)
    onnx.save(proto, str(old))
    assert "action_kind" not in Policy.load(old).metadata and Policy.load(old).action_kind == ["effort"]
    cfg = Sim2SimCfg(seconds=2.0, episodes=1, obs_noise=1.0)
    new_report, old_report = run_sim2sim(cartpole_onnx, cfg), run_sim2sim(old, cfg)
    assert old_report["settings"]["joint_ranges"] == new_report["settings"]["joint_ranges"]
    assert old_report["episodes"] == new_report["episodes"]


def test_efforts_on_a_servo_are_refused(cartpole_onnx, tmp_path, capsys):
    def to_servo(spec):
        spec.actuators[0].set_to_position(kp=100.0)

    argv = ["sim2sim", "--policy", str(cartpole_onnx), "--model", _scene(cartpole_onnx, tmp_path, to_servo)]
    assert main([*argv, "--seconds", "0.1", "--episodes", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert (
        "joints ['slider']: the policy's actions are efforts, but the model drives these joints with position servos"
        in err
    )


def test_actions_of_another_kind_say_which_policies_sim2sim_takes(cartpole_onnx, tmp_path):
    odd = edit_metadata(
        cartpole_onnx,
        tmp_path / "odd.onnx",
        action_kind=[None],
        action_terms=[{"name": "cart", "type": "CartVelocityAction", "start": 0, "size": 1}],
    )
    with pytest.raises(Sim2SimError) as error:
        run_sim2sim(odd, Sim2SimCfg(seconds=0.1, episodes=1))
    message = str(error.value)
    assert "joints ['slider']: the policy's actions (terms ['CartVelocityAction']) are neither" in message
    assert "joint position targets (JointPositionAction) or joint efforts (JointEffortAction)" in message


def test_a_network_that_gives_nan_ends_the_episode_and_names_it(cartpole_onnx, tmp_path, capsys):
    # Finite for the zero observation load tries, NaN once noise makes the observation non-zero.
    broken = replace_graph(cartpole_onnx, tmp_path / "nan.onnx", linear_graph(nan_where_negative=True))
    assert (
        main(["sim2sim", "--policy", str(broken), "--seconds", "1", "--episodes", "1", "--obs-noise", "1"])
        == 0
    )
    out = capsys.readouterr().out
    report = json.loads(out[: out.rindex("}") + 1])
    episode = report["episodes"][0]
    assert (
        episode["end"] == "non_finite"
        and "the network gave non-finite actions at slider = nan" in episode["fault"]
    )
    assert report["summary"]["non_finite"] == 1 and "1 stopped on a non-finite value" in out


def test_a_diverging_simulation_ends_the_episode_and_names_it(cartpole_onnx, tmp_path):
    # A motor with an absurd gear and no control range: 1e12 N on a 1 kg cart, which MuJoCo resets.
    def huge_gear(spec):
        spec.actuators[0].gear[0] = 1e12
        spec.actuators[0].ctrllimited = 0

    push = replace_graph(
        cartpole_onnx, tmp_path / "push.onnx", linear_graph(weight=0.0, bias=1.0), effort_per_target=[None],
        target_range=[None],
    )  # fmt: skip
    model = _scene(cartpole_onnx, tmp_path, huge_gear)
    report = run_sim2sim(push, Sim2SimCfg(seconds=1.0, episodes=1), model=model)
    episode = report["episodes"][0]
    assert episode["end"] == "diverged" and "BADQACC" in episode["fault"] and episode["survival_s"] == 0.0
    assert report["summary"]["diverged"] == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--seconds", "inf"],
            "--seconds must be a number > 0 and at most 86400 s (a day of simulated time), got inf",
        ),
        # Finite but endless: it ran as long as the machine allowed, looking like a hang.
        (["--seconds", "1e30"], "--seconds must be a number > 0 and at most 86400 s"),
        (["--seconds", "1", "--episodes", "1" + "0" * 30], "--episodes must be an integer from 1 to 100,000"),
        (
            ["--seconds", "1", "--latency-ms", "1e300"],
            "--latency-ms must be a number >= 0 and no longer than the episode",
        ),
        (["--seconds", "1", "--command", "nan"], "--command must be finite numbers"),
        (
            ["--seconds", "1", "--max-tilt-deg", "nan"],
            "--max-tilt-deg must be an angle in (0, 180] degrees, got nan",
        ),
        (
            ["--seconds", "1", "--motor-strength", "inf"],
            "--motor-strength must be a finite number > 0, got inf",
        ),
        (["--seconds", "1", "--seed", "-1"], "--seed must be an integer >= 0, got -1"),
    ],
)
def test_settings_that_are_not_finite_are_refused_in_one_line(cartpole_onnx, capsys, args, message):
    assert main(["sim2sim", "--policy", str(cartpole_onnx), "--episodes", "1", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("warplab sim2sim: error:") and message in err


@pytest.mark.parametrize("option", ["--json-out", "--video"])
def test_a_report_or_video_onto_the_policy_is_refused_and_keeps_it(cartpole_onnx, tmp_path, capsys, option):
    # `--json-out policy.onnx` used to run the check and then replace the policy by its report.
    policy = tmp_path / "policy.onnx"
    policy.write_bytes(cartpole_onnx.read_bytes())
    good = policy.read_bytes()
    argv = ["sim2sim", "--policy", str(policy), "--seconds", "0.1", "--episodes", "1", option, str(policy)]
    assert main(argv) == 2
    assert capsys.readouterr().err.strip() == (
        f"warplab sim2sim: error: cannot write {policy}: it is the --policy file being read ({policy}); "
        "give another file name (nothing was written)"
    )
    assert policy.read_bytes() == good
