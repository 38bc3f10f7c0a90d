"""``Simulation.forward(positions_velocities_only=True)``: poses, centres of mass, body velocities and
position/velocity sensors as MuJoCo's C engine computes them from the same qpos and qvel; contact
forces, accelerations and acceleration sensors left as they were. And the env option that uses it
after resets (``RlEnvCfg.reset_forward``)."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest
import torch

from warplab.envs.managers.term import ConfigError
from warplab.envs.rl_env import RlEnv
from warplab.tasks import make_env_cfg

from .reference import c_engine_forward, numpy_rows


def _humanoid_env(num_envs: int = 3, **fields) -> RlEnv:
    cfg = make_env_cfg("humanoid-velocity-flat")
    cfg.num_envs, cfg.device, cfg.seed = num_envs, "cpu", 7
    for name, value in fields.items():
        setattr(cfg, name, value)
    return RlEnv(cfg)


def test_positions_and_velocities_match_mujoco_c_and_forces_stay():
    env = _humanoid_env()
    sim, mjm = env.sim, env.mj_model
    for _ in range(5):  # standing on the floor: contacts and contact forces present
        env.step(torch.zeros(env.num_envs, env.action_dim))
    forces_before = sim.cfrc_ext.clone()
    qacc_before = sim.qacc.clone()
    # New positions and velocities for every world: lifted, turned, moving.
    gen = torch.Generator().manual_seed(3)
    qpos, qvel = sim.qpos.clone(), sim.qvel.clone()
    qpos[:, 2] += 0.3
    qpos[:, 7:] += 0.2 * (torch.rand(qpos[:, 7:].shape, generator=gen) - 0.5)
    qvel.copy_(torch.rand(qvel.shape, generator=gen) - 0.5)
    sim.qpos.copy_(qpos)
    sim.qvel.copy_(qvel)
    sim.forward(positions_velocities_only=True)

    stage = mjm.sensor_needstage
    pos_vel_sensors = [i for i in range(mjm.nsensor) if int(stage[i]) <= int(mujoco.mjtStage.mjSTAGE_VEL)]
    acc_sensors = [i for i in range(mjm.nsensor) if int(stage[i]) == int(mujoco.mjtStage.mjSTAGE_ACC)]
    assert pos_vel_sensors and acc_sensors  # the humanoid's IMU has both kinds
    columns = lambda ids: np.concatenate(  # noqa: E731
        [np.arange(mjm.sensor_adr[i], mjm.sensor_adr[i] + mjm.sensor_dim[i]) for i in ids]
    )
    for world in range(env.num_envs):
        ref = c_engine_forward(mjm, numpy_rows(qpos)[world], numpy_rows(qvel)[world])
        np.testing.assert_allclose(numpy_rows(sim.xpos)[world], ref.xpos, atol=1e-5)
        np.testing.assert_allclose(numpy_rows(sim.xquat)[world], ref.xquat, atol=1e-5)
        np.testing.assert_allclose(numpy_rows(sim.subtree_com)[world], ref.subtree_com, atol=1e-5)
        np.testing.assert_allclose(numpy_rows(sim.cvel)[world], ref.cvel, atol=1e-4)
        cols = columns(pos_vel_sensors)
        np.testing.assert_allclose(numpy_rows(sim.sensordata)[world][cols], ref.sensordata[cols], atol=1e-4)
    # Nothing that needs the constraint solve was recomputed.
    torch.testing.assert_close(sim.cfrc_ext, forces_before)
    torch.testing.assert_close(sim.qacc, qacc_before)
    # A full forward of the lifted robots does change them (so the check above can fail).
    sim.forward()
    assert not torch.allclose(sim.cfrc_ext, forces_before)


@pytest.mark.slow
def test_reset_forward_positions_velocities_keeps_the_policy_inputs():
    """With ``reset_forward="positions_velocities"`` the policy's observations, rewards and dones
    through resets are those of the full forward: the policy reads poses and velocities only; the
    critic's foot forces of a reset world's first step are the only difference."""
    full = _humanoid_env(4, episode_length_s=0.1, reset_forward="full")
    light = _humanoid_env(4, episode_length_s=0.1, reset_forward="positions_velocities")
    gen = torch.Generator().manual_seed(0)
    resets, critic_differs = 0, False
    for _ in range(12):
        action = torch.rand(4, full.action_dim, generator=gen) * 2 - 1
        obs_f, rew_f, term_f, trunc_f, _ = full.step(action)
        obs_l, rew_l, term_l, trunc_l, _ = light.step(action)
        resets += int((term_f | trunc_f).sum())
        torch.testing.assert_close(obs_l["policy"], obs_f["policy"], atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(rew_l, rew_f, atol=1e-5, rtol=1e-5)
        assert torch.equal(term_l, term_f) and torch.equal(trunc_l, trunc_f)
        critic_differs |= not torch.allclose(obs_l["critic"], obs_f["critic"], atol=1e-3)
    assert resets >= 4
    assert critic_differs  # the light forward really skipped the forces (the test can fail)


def test_tasks_that_do_not_choose_recompute_everything():
    # The velocity tasks choose (tests/envs/test_reset_forward.py); a task that does not gets "full".
    assert make_env_cfg("cartpole-balance").reset_forward == "full"


def test_reset_forward_rejects_an_unknown_value():
    with pytest.raises(ConfigError, match="reset_forward must be one of"):
        _humanoid_env(1, reset_forward="kinematics")


def _stepped_humanoid(device: str, compile_managers: bool | str = "auto"):
    """The flat humanoid after 5 steps standing on the floor (contacts and forces present), its qpos
    and qvel then moved without a forward."""
    cfg = make_env_cfg("humanoid-velocity-flat")
    cfg.num_envs, cfg.device, cfg.seed = 3, device, 7
    cfg.compile_managers = compile_managers
    env = RlEnv(cfg)
    for _ in range(5):
        env.step(torch.zeros(env.num_envs, env.action_dim, device=env.device))
    env.sim.qpos[:, 2] += 0.3
    env.sim.qvel += 0.1
    return env


@pytest.mark.parametrize("positions_velocities_only", [False, True])
def test_a_forward_changes_no_state_field(positions_velocities_only):
    """What lets a forward's graph be captured without saving and restoring the state around its
    warm-up run (``Simulation._capture(changes_state=False)``): a forward writes no state field."""
    sim = _stepped_humanoid("cpu").sim
    before = {name: value.clone() for name, value in sim._data_state().items()}
    sim.forward(positions_velocities_only=positions_velocities_only)
    for name, value in sim._data_state().items():
        assert torch.equal(value, before[name]), name


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_the_first_graphed_forward_on_cuda_keeps_the_forces():
    """The first positions-and-velocities forward on CUDA captures its graph: the capture must not
    recompute contacts and forces either (it once restored the state with a full forward)."""
    env = _stepped_humanoid("cuda")
    sim = env.sim
    assert "forward_pos_vel" not in sim._graphs
    forces_before, qacc_before = sim.cfrc_ext.clone(), sim.qacc.clone()
    sim.forward(positions_velocities_only=True)
    assert "forward_pos_vel" in sim._graphs
    assert torch.equal(sim.cfrc_ext, forces_before) and torch.equal(sim.qacc, qacc_before)
    # And the poses did follow the moved qpos: the forward ran.
    assert torch.allclose(sim.xpos[:, 1], sim.qpos[:, 0:3], atol=1e-5)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_no_garbage_is_collected_inside_a_capture():
    """Python's cyclic garbage collector must not run while an env captures a CUDA graph: freeing
    an unreachable torch CUDA graph there (an earlier runner's graphed update) made the capture and
    the env's construction fail ("operation not permitted when stream is capturing"). With the
    collector made to run at nearly every allocation, no collection may happen during a capture."""
    import gc

    import warp as wp

    device = wp.get_device("cuda:0")
    during_capture = []

    def watch(phase: str, info: dict) -> None:
        if phase == "start" and device.is_capturing:
            during_capture.append(info["generation"])

    thresholds = gc.get_threshold()
    gc.callbacks.append(watch)
    gc.set_threshold(1, 1, 1)
    try:
        # Managers plain: Inductor's compile with a collection at nearly every allocation would take minutes.
        env = _stepped_humanoid("cuda", compile_managers=False)
        env.sim.forward(positions_velocities_only=True)  # one more capture, of the forward
    finally:
        gc.set_threshold(*thresholds)
        gc.callbacks.remove(watch)
    assert during_capture == []
    assert torch.isfinite(env.sim.qpos).all()
