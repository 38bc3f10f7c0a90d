"""The PPO update keeps its learning rate on the device: rsl_rl's adaptive rule, bit for bit, with
nothing read back to the host per mini-batch. These run on the CPU; tests/rl/test_cuda.py checks
the same update on CUDA with torch's sync debug mode."""

from __future__ import annotations

import copy
import math

import pytest
import torch

from warplab.rl import PPO, PpoCfg, adapt_learning_rate
from warplab.rl.ppo import adapt_learning_rate_

from .helpers import HostReadRecorder, assert_same_training_state, make_runner

CFG = PpoCfg(desired_kl=0.01, min_learning_rate=1e-5, max_learning_rate=1e-2)


def _device_rule(lr: float, kl: torch.Tensor) -> float:
    rate = torch.tensor(lr, dtype=torch.float64)
    adapt_learning_rate_(rate, kl, CFG)
    return rate.item()


def test_device_rule_by_hand():
    # desired_kl 0.01: the rate falls when KL > 0.02, rises when KL < 0.005, within [1e-5, 1e-2].
    # From 1e-3, one mini-batch's KL (float32, as the update computes it) after another:
    #   0.03   > 0.02              1e-3 / 1.5        = 6.667e-4
    #   0.03   > 0.02              6.667e-4 / 1.5    = 4.444e-4
    #   0.004  < 0.005             4.444e-4 * 1.5    = 6.667e-4
    #   0.01   in between          unchanged         = 6.667e-4
    #   0      < 0.005             6.667e-4 * 1.5    = 1e-3
    #   0.02   float32 0.0199999996, not above 0.02: unchanged = 1e-3
    #   0.005  float32 0.00499999989, below 0.005: rises (as `kl.item() < 0.005` did) = 1.5e-3
    kls = [0.03, 0.03, 0.004, 0.01, 0.0, 0.02, 0.005]
    expected = [1e-3 / 1.5, 1e-3 / 1.5**2, 1e-3 / 1.5, 1e-3 / 1.5, 1e-3, 1e-3, 1.5e-3]
    rate = torch.tensor(1e-3, dtype=torch.float64)
    for kl, want in zip(kls, expected, strict=True):
        returned = adapt_learning_rate_(rate, torch.tensor(kl, dtype=torch.float32), CFG)
        assert returned is rate  # In place: Adam holds this tensor.
        assert math.isclose(rate.item(), want, rel_tol=1e-15), (kl, rate.item(), want)
    # The bounds: 8e-3 * 1.5 = 1.2e-2 is clamped to 1e-2; 1.2e-5 / 1.5 = 8e-6 is clamped to 1e-5.
    assert _device_rule(8e-3, torch.tensor(0.0)) == 1e-2
    assert _device_rule(1.2e-5, torch.tensor(1.0)) == 1e-5
    # A NaN KL moves nothing (neither comparison holds), as in the float rule.
    assert _device_rule(1e-3, torch.tensor(float("nan"))) == 1e-3


def test_device_rule_is_the_float_rule_bit_for_bit():
    # Rates across the range and at its bounds; KLs at and next to both thresholds in float32
    # (where a float32 comparison would round the threshold first), and far from them.
    generator = torch.Generator().manual_seed(0)
    rates = [
        1e-5,
        1e-2,
        1e-3,
        3e-4,
        *torch.exp(torch.empty(20).uniform_(-11.5, -4.6, generator=generator)).tolist(),
    ]
    kls = [0.0, 1.0, float("inf"), 0.01, *torch.rand(20, generator=generator).mul(0.05).tolist()]
    for threshold in (0.02, 0.005):
        t = torch.tensor(threshold, dtype=torch.float32)
        kls += [
            t.item(),
            torch.nextafter(t, torch.tensor(1.0)).item(),
            torch.nextafter(t, torch.tensor(0.0)).item(),
        ]
    for lr in rates:
        for kl in kls:
            kl32 = torch.tensor(kl, dtype=torch.float32)
            # The float rule sees what kl.item() gave the host: the float32 KL, exactly.
            assert _device_rule(lr, kl32) == adapt_learning_rate(lr, kl32.item(), CFG), (lr, kl)


def test_adam_steps_with_a_float64_rate_tensor_exactly_as_with_a_float():
    # The CPU keeps its numerics: Adam reads PPO.lr (a 0-d float64 tensor) as it read the float.
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(5, 16), torch.nn.ELU(), torch.nn.Linear(16, 3))
    with_float, with_tensor = copy.deepcopy(net), copy.deepcopy(net)
    rate = torch.tensor(3e-3, dtype=torch.float64)
    adam_float = torch.optim.Adam(with_float.parameters(), lr=rate.item())
    adam_tensor = torch.optim.Adam(with_tensor.parameters(), lr=rate)
    for step in range(20):
        x = torch.randn(32, 5)
        for model, adam in ((with_float, adam_float), (with_tensor, adam_tensor)):
            adam.zero_grad()
            model(x).square().mean().backward()
            adam.step()
        adapt_learning_rate_(rate, torch.tensor(0.05 if step % 3 else 0.0), CFG)
        adam_float.param_groups[0]["lr"] = rate.item()
    for a, b in zip(with_float.parameters(), with_tensor.parameters(), strict=True):
        assert torch.equal(a, b)


def _counting_update(runner) -> HostReadRecorder:
    """Run one update under a recorder; the optimizer's own step is not counted: its CPU
    implementation reads its step counter and rate per parameter, while on CUDA the fused one
    reads nothing (tests/rl/test_cuda.py)."""
    step = runner.ppo.optimizer.step
    recorder = HostReadRecorder()

    def unrecorded_step(*args, **kwargs):
        with recorder.paused():
            return step(*args, **kwargs)

    runner.ppo.optimizer.step = unrecorded_step
    try:
        with recorder:
            runner.update()
    finally:
        del runner.ppo.optimizer.step
    return recorder


@pytest.mark.parametrize("schedule", ["adaptive", "fixed"])
def test_update_reads_nothing_on_the_host(schedule):
    """No .item(), float(t), tolist()... in the PPO update or the normalizers' update: on CUDA each
    would make the host wait for the device once per mini-batch."""
    ppo = PpoCfg(num_steps_per_env=8, num_learning_epochs=3, num_mini_batches=4, schedule=schedule)
    runner = make_runner(critic_group=True, ppo=ppo)
    runner.learn(1)
    runner.collect_rollout()
    recorder = _counting_update(runner)
    assert recorder.total == 0, f"host reads in the update: {recorder.hits}"


def test_recorder_sees_a_per_mini_batch_read():
    """The test above can fail: a KL read on the host, as the update once did, is seen once per
    mini-batch."""
    ppo = PpoCfg(num_steps_per_env=8, num_learning_epochs=3, num_mini_batches=4)
    runner = make_runner(ppo=ppo)
    runner.learn(1)
    runner.collect_rollout()
    original = adapt_learning_rate_

    def reads_on_host(lr, kl, cfg):
        lr.fill_(adapt_learning_rate(lr.item(), kl.item(), cfg))
        return lr

    import warplab.rl.ppo as ppo_module

    ppo_module.adapt_learning_rate_ = reads_on_host
    try:
        recorder = _counting_update(runner)
    finally:
        ppo_module.adapt_learning_rate_ = original
    assert recorder.total == 2 * 3 * 4


def test_host_reads_per_iteration_do_not_grow_with_mini_batches():
    """A whole iteration reads the host as often with 12 mini-batches as with 1: the logging reads
    once per iteration, never per mini-batch."""
    totals = []
    for epochs, mini_batches in ((1, 1), (3, 4)):
        ppo = PpoCfg(num_steps_per_env=8, num_learning_epochs=epochs, num_mini_batches=mini_batches)
        runner = make_runner(ppo=ppo)
        runner.learn(1)
        step = runner.ppo.optimizer.step
        recorder = HostReadRecorder()

        def unrecorded_step(*args, _step=step, _recorder=recorder, **kwargs):
            with _recorder.paused():
                return _step(*args, **kwargs)

        runner.ppo.optimizer.step = unrecorded_step
        with recorder:
            runner.learn(1)
        totals.append(recorder.total)
    assert totals[0] == totals[1], totals


def test_learning_rate_reads_and_sets_the_device_rate():
    runner = make_runner()
    ppo: PPO = runner.ppo
    assert ppo.lr.dtype == torch.float64 and ppo.lr.shape == ()
    ppo.set_learning_rate(2.5e-4)
    assert ppo.learning_rate == 2.5e-4
    assert all(group["lr"] is ppo.lr for group in ppo.optimizer.param_groups)


def test_optimizer_state_of_another_implementation_resumes_exactly(tmp_path):
    """A checkpoint whose Adam ran fused with a float32 rate (a CUDA run) resumes on the CPU with
    this PPO's Adam and rate tensor, and training goes on exactly as without the detour."""
    straight = make_runner(critic_group=True)
    straight.learn(3)

    first = make_runner(critic_group=True)
    first.learn(2)
    checkpoint = first.state()
    for group in checkpoint["optimizer"]["param_groups"]:
        group.update(fused=True, lr=torch.tensor(first.ppo.learning_rate, dtype=torch.float32))
    torch.save(checkpoint, tmp_path / "model_2.pt")

    resumed = make_runner(critic_group=True)
    resumed.load(tmp_path / "model_2.pt")
    for group in resumed.ppo.optimizer.param_groups:
        assert group["fused"] is None and group["lr"] is resumed.ppo.lr
    resumed.learn(1)
    assert_same_training_state(resumed, straight)


def test_fused_adam_follows_the_rate_and_loads_any_state():
    """The CUDA branch, run on the CPU (whose Adam also has a fused form): fused Adam reads a
    float32 copy of the rate, which follows every change; the update still reads nothing on the
    host; and a state saved by the non-fused Adam loads into it (step counters as it keeps them)."""
    runner = make_runner(critic_group=True)
    runner.learn(1)
    plain_state = runner.ppo.optimizer.state_dict()
    runner.ppo = PPO(runner.policy, runner.cfg.ppo, seed=runner.cfg.seed, fused_adam=True)
    runner.ppo.load_optimizer_state(plain_state, 2e-3)
    adam_lr = runner.ppo.optimizer.param_groups[0]["lr"]
    assert adam_lr.dtype == torch.float32 and adam_lr is not runner.ppo.lr
    assert all(group["fused"] for group in runner.ppo.optimizer.param_groups)
    assert adam_lr.item() == torch.tensor(2e-3, dtype=torch.float32).item()
    runner.learn(2)
    assert runner.ppo.learning_rate == 1e-2  # The toy's KL is small: the rate rose to its bound.
    runner.collect_rollout()
    assert _counting_update(runner).total == 0
    assert adam_lr.item() == runner.ppo.lr.to(torch.float32).item()
    assert all(group["lr"] is adam_lr for group in runner.ppo.optimizer.param_groups)


@pytest.mark.parametrize("tf32_matmul", [False, True])
def test_tf32_switch_holds_only_during_the_update(tf32_matmul):
    """torch's TF32 switch is process-wide: on during the update when asked, and as it was before
    and after (so collection and the env keep FP32). The CPU's numbers do not depend on it."""
    seen = []
    runner = make_runner(ppo=PpoCfg(num_steps_per_env=8, num_learning_epochs=1, tf32_matmul=tf32_matmul))
    evaluate = runner.policy.evaluate

    def spy(obs):
        seen.append(torch.backends.cuda.matmul.allow_tf32)
        return evaluate(obs)

    runner.policy.evaluate = spy
    previous = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = False  # rl_games' runner turns it on for the process.
    try:
        runner.learn(1)
        assert torch.backends.cuda.matmul.allow_tf32 is False
    finally:
        torch.backends.cuda.matmul.allow_tf32 = previous
    # 8 steps of collection (with V(final_obs)) and the last value: FP32; the update: as asked.
    collection, update = seen[: 2 * 8 + 1], seen[2 * 8 + 1 :]
    assert not any(collection) and update and all(flag is tf32_matmul for flag in update)


def test_graph_update_is_ignored_on_the_cpu():
    """``graph_update`` records CUDA graphs: on the CPU the update is the plain one, bit for bit."""
    # One after the other: a runner seeds the global generators it samples actions from.
    plain = make_runner(ppo=PpoCfg(num_steps_per_env=8, num_learning_epochs=2, num_mini_batches=2))
    plain.learn(2)
    asked = make_runner(
        ppo=PpoCfg(num_steps_per_env=8, num_learning_epochs=2, num_mini_batches=2, graph_update=True)
    )
    asked.learn(2)
    assert asked.ppo._graph is None and not asked.ppo.optimizer.defaults["capturable"]
    assert_same_training_state(asked, plain)


def test_graph_update_must_be_a_bool():
    from warplab.rl.config import validate

    with pytest.raises(ValueError, match=r"PpoCfg.graph_update must be True or False, got 'yes'"):
        validate(PpoCfg(graph_update="yes"))
