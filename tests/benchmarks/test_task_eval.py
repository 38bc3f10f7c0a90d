"""benchmarks/task_eval.py: the getup and terrain evaluations return well-formed figures that a
second, independent rollout of the same worlds recounts (CPU, a few worlds, short episodes).

The summaries are recounted from the per-world lists, and the per-world lists from a plain loop over
the same env (same seed, deterministic actions) that records every step and reads the outcome off
the whole record afterwards.
"""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]
GETUP_CHECKPOINT = ROOT / "benchmarks" / "results" / "humanoid_getup_4096_h200_scratch_policy.pt"


def _load_task_eval():
    spec = importlib.util.spec_from_file_location("task_eval", ROOT / "benchmarks" / "task_eval.py")
    module = importlib.util.module_from_spec(spec)
    # Dataclasses look their module up in sys.modules while the module runs.
    sys.modules["task_eval"] = module
    spec.loader.exec_module(module)
    return module


task_eval = _load_task_eval()


# ---------------------------------------------------------------------------- summaries alone
def test_getup_summary_counts_shares_and_nearest_rank_times():
    per_world = {
        "pose": ["face_up", "face_down", "side", "face_up"],
        "start_base_height_m": [0.1, 0.2, 0.15, 0.1],
        "start_upright": [0.0, -0.1, 0.3, 0.1],
        "standing_at_end": [True, False, True, True],
        "standing_whole_last_s": [True, False, False, True],
        "time_to_stand_s": [1.0, None, 3.0, 2.0],
        "diverged": [False, False, False, False],
        "airborne_s": [0.0, 0.0, 0.2, 0.2],
        "max_base_up_speed_m_s": [0.5, 0.1, 2.0, 3.0],
        "joint_speed_rms_rad_s": [0.5, 9.0, 9.0, 1.5],
        "base_speed_m_s": [0.1, 9.0, 9.0, 0.3],
        "base_height_m": [0.7, 0.1, 0.7, 0.8],
    }
    s = task_eval.summarize_getup(per_world)
    assert s["worlds"] == 4 and s["standing_at_end"] == 0.75 and s["standing_whole_last_s"] == 0.5
    assert s["ever_airborne"] == 0.5 and s["airborne_s_mean"] == pytest.approx(0.1)
    assert s["max_base_up_speed_m_s_median"] == 0.5
    assert s["ever_stood"] == 0.75 and s["start_base_height_m_max"] == 0.2 and s["start_upright_max"] == 0.3
    # Sorted times 1, 2, 3, never: the median is the 2nd (nearest rank), the 90th percentile the 4th.
    assert s["time_to_stand_s_median"] == 2.0 and s["time_to_stand_s_p90"] is None
    # Holding figures average the two worlds that stood throughout the last seconds only.
    assert s["holding"] == {
        "worlds": 2,
        "joint_speed_rms_rad_s": 1.0,
        "base_speed_m_s": pytest.approx(0.2),
        "base_height_m": pytest.approx(0.75),
    }


def test_rough_cell_summary_uses_only_its_worlds():
    per_world = {
        "fell_at_s": [None, 0.5, 3.0, None],
        "diverged": [False, False, False, True],
        "distance_m": [4.5, 1.0, 2.0, 100.0],
        "forward_m": [4.0, 0.5, 1.5, 0.0],
        "height_change_m": [0.24, 0.0, 0.13, 9.0],
    }
    s = task_eval.summarize_rough_cell(per_world, [0, 1, 2], half_tile=4.0, early_s=1.0, step_height=0.12)
    assert s["worlds"] == 3 and s["diverged"] == 0
    assert s["fall"] == pytest.approx(2 / 3) and s["fall_first_1s"] == pytest.approx(1 / 3)
    assert s["distance_m"] == pytest.approx(2.5) and s["forward_m"] == pytest.approx(2.0)
    assert s["walked_off"] == pytest.approx(1 / 3)
    assert s["steps_reached"] == pytest.approx((2 + 0 + 1) / 3)


def test_rough_difficulties_must_be_evenly_spaced():
    with pytest.raises(ValueError, match="evenly spaced"):
        task_eval.rough_eval_cfg(task_eval.RoughEvalCfg(difficulties=(0.0, 0.25, 1.0)))


# ---------------------------------------------------------------------------- getting up
@pytest.mark.slow
def test_getup_evaluation_matches_a_recount():
    from warplab.rl.inference import load_policy
    from warplab.tasks.recovery import mdp as recovery

    # The trained policy stands up in 0.5 to 2 s (these six worlds: 0.56 to 1.08 s), so a 0.7 s
    # episode ends with some worlds up and some not.
    policy, _ = load_policy(GETUP_CHECKPOINT)
    n, episode_s, hold_s = 6, 0.7, 0.1
    result = task_eval.evaluate_getup(policy, n, episode_s=episode_s, hold_s=hold_s)
    per_world = result["per_world"]
    assert result["worlds"] == n and all(len(v) == n for v in per_world.values())
    assert sum(p["worlds"] for p in result["by_pose"].values()) == n
    for key in ("standing_at_end", "standing_whole_last_s", "ever_stood"):
        assert 0.0 <= result[key] <= 1.0
    assert result["standing_whole_last_s"] <= result["standing_at_end"] <= result["ever_stood"]
    assert result["start_base_height_m_max"] < 0.5 * result["standing"]["standing_height"]
    assert result["standing"] == {
        "standing_height": pytest.approx(0.68969),
        "height_ratio": 0.9,
        "min_upright": 0.9,
    }

    # The same worlds, stepped by hand: the standing flag of every step, then read off the record.
    cfg, standing = task_eval.getup_eval_cfg(episode_s)
    env = task_eval.build_eval_env(cfg, n)
    obs, _ = env.reset()
    poses = [recovery.LYING_POSES[i] for i in recovery.find_event_term(env, "reset_lying").pose.tolist()]
    record = []
    with torch.inference_mode():
        for _ in range(round(episode_s / env.policy_dt)):
            obs, _, terminated, _, _ = env.step(policy.act_inference(obs))
            assert not terminated.any()
            record.append(recovery.is_standing(env, **standing).bool().tolist())
    flags = np.array(record)  # [steps, worlds]
    hold = round(hold_s / env.policy_dt)
    assert per_world["pose"] == poses
    assert per_world["standing_at_end"] == flags[-1].tolist()
    assert per_world["standing_whole_last_s"] == flags[-hold:].all(axis=0).tolist()
    for world in range(n):
        stood = np.flatnonzero(flags[:, world])
        expected = None if stood.size == 0 else (stood[0] + 1) * env.policy_dt
        assert per_world["time_to_stand_s"][world] == pytest.approx(expected)
    # The outcome is mixed, so the recount tells standing from lying apart.
    assert (
        0 < sum(per_world["standing_at_end"]) < n
        or 0 < sum(t is not None for t in per_world["time_to_stand_s"]) < n
    )


# ---------------------------------------------------------------------------- terrain
class _KneelOnOdd:
    """Deterministic actions: even worlds hold the default pose, odd ones drive every joint far off it
    (they crumple and fall), so a short episode has both outcomes."""

    def act_inference(self, obs):
        from warplab.assets.robots.humanoid import HUMANOID_ROBOT_CFG

        actions = torch.zeros(obs["policy"].shape[0], len(HUMANOID_ROBOT_CFG.joint_names))
        actions[1::2] = 4.0
        return actions


@pytest.mark.slow
def test_rough_evaluation_matches_a_recount():
    from warplab.assets.terrain_generator import TerrainCfg
    from warplab.envs.mdp import _state
    from warplab.envs.mdp.terrain import terrain_levels_term

    rough = task_eval.RoughEvalCfg(types=("flat", "stairs_up"), difficulties=(0.0, 1.0), episode_s=1.5)
    policy = _KneelOnOdd()
    result = task_eval.evaluate_rough(policy, 9, rough)  # 9 worlds: 2 per cell, one left out
    assert result["worlds"] == 8 and result["worlds_per_cell"] == 2
    cells = {(c["type"], c["difficulty"]): c for c in result["cells"]}
    assert sorted(cells) == [("flat", 0.0), ("flat", 1.0), ("stairs_up", 0.0), ("stairs_up", 1.0)]
    default = TerrainCfg()
    assert cells["stairs_up", 0.0]["step_height_m"] == pytest.approx(default.step_height_range[0])
    assert cells["stairs_up", 1.0]["step_height_m"] == pytest.approx(default.step_height_range[1])
    # 3 m of stairs between the 2 m platform and the rim of an 8 m tile, 0.3 m a tread.
    rim = (default.tile_size - default.platform_size) / 2 / default.step_width
    assert cells["stairs_up", 1.0]["steps_to_rim"] == round(rim)
    per_world = result["per_world"]
    for i, (kind, difficulty) in enumerate(zip(per_world["type"], per_world["difficulty"], strict=True)):
        assert cells[kind, difficulty] is result["cells"][i // 2]
    for c in result["cells"]:
        assert 0.0 <= c["fall_first_1s"] <= c["fall"] <= 1.0 and 0.0 <= c["walked_off"] <= 1.0

    # The same worlds, stepped by hand: every base position and termination, read off afterwards.
    cfg, _ = task_eval.rough_eval_cfg(rough)
    env = task_eval.build_eval_env(cfg, 8)
    term = terrain_levels_term(env)
    cell = torch.arange(8) // 2
    term.levels.copy_(cell // 2)
    term.types.copy_(cell % 2)
    obs, _ = env.reset()
    centre = term.origins[:, :2].clone()
    positions, ended = [_state.root_pos_w(env)[:, :2].clone()], []
    with torch.inference_mode():
        for _ in range(round(rough.episode_s / env.policy_dt)):
            obs, _, terminated, _, _ = env.step(policy.act_inference(obs))
            positions.append(_state.root_pos_w(env)[:, :2].clone())
            ended.append(terminated.clone())
    ended_t = torch.stack(ended)  # [steps, worlds]
    for world in range(8):
        steps = torch.nonzero(ended_t[:, world]).flatten().tolist()
        last = len(ended) if not steps else steps[0]  # positions[k] is after step k; a fall's is a reset
        fell_at = None if not steps else (steps[0] + 1) * env.policy_dt
        distance = float(torch.linalg.vector_norm(positions[last][world] - centre[world]))
        assert per_world["fell_at_s"][world] == pytest.approx(fell_at)
        assert per_world["distance_m"][world] == pytest.approx(distance, abs=1e-5)
    fell = [t is not None for t in per_world["fell_at_s"]]
    assert any(fell) and not all(fell), "the test's policy should make some worlds fall, not all"
    for (kind, difficulty), c in cells.items():
        rows = [
            i for i in range(8) if (per_world["type"][i], per_world["difficulty"][i]) == (kind, difficulty)
        ]
        assert c["fall"] == pytest.approx(np.mean([fell[i] for i in rows]))
        assert c["distance_m"] == pytest.approx(np.mean([per_world["distance_m"][i] for i in rows]))
        assert c["walked_off"] == np.mean([per_world["distance_m"][i] > 4.0 for i in rows])
        assert math.isfinite(c["forward_m"])
        assert ("height_change_m" in c) == (kind == "stairs_up") and c.get("height_change_m", 0.0) >= 0.0


def test_a_tile_video_shows_one_world_on_its_tile(tmp_path):
    """``record_rough_tile`` renders one world on a single stairs tile (OSMesa, in a fresh process:
    MuJoCo reads ``MUJOCO_GL`` at its first import)."""
    import os
    import subprocess

    import imageio.v2 as imageio

    policy = ROOT / "benchmarks" / "results" / "humanoid_velocity_rough_4096_h100_policy.pt"
    video = tmp_path / "tile.mp4"
    script = (
        "import sys; sys.path.insert(0, 'benchmarks'); import task_eval; "
        "from warplab.rl.inference import load_policy; "
        f"policy, _ = load_policy({str(policy)!r}, device='cpu'); "
        f"print(task_eval.record_rough_tile(policy, 'stairs_up', 0.25, {str(video)!r}, seconds=0.4))"
    )
    env = {**os.environ, "MUJOCO_GL": "osmesa", "PYOPENGL_PLATFORM": "osmesa"}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300, env=env
    )
    assert done.returncode == 0, done.stderr
    with imageio.get_reader(video) as reader:
        frames = [frame for frame in reader]
    # 0.4 s of 20 ms policy steps, every 2nd kept for 25 fps: 10 frames of 640 x 480, not blank.
    assert len(frames) == 10 and frames[0].shape == (480, 640, 3)
    assert frames[-1].std() > 10


@pytest.mark.slow
@pytest.mark.parametrize("task", ["humanoid-velocity-rough-scan", "humanoid-velocity-rough-boxes"])
def test_the_terrain_evaluation_runs_the_scanning_and_box_variants_on_their_own_task(task):
    """train_task.py evaluates these variants on their own task (the scanning policy needs its scan in
    the observation, the box terrain its boxes): the evaluation's env is that task's, its stairs of the
    generator's heights."""
    import importlib

    from warplab.assets.terrain_generator import TerrainCfg

    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        train_task = importlib.import_module("train_task")
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    assert train_task.task_evaluators(task) == ["velocity", "rough"]
    rough = task_eval.RoughEvalCfg(
        task=task, types=("flat", "stairs_up"), difficulties=(0.0, 1.0), episode_s=0.2
    )
    cfg, _ = task_eval.rough_eval_cfg(rough)
    assert ("height_scan" in cfg.observations["policy"].terms) == task.endswith("-scan")
    result = task_eval.evaluate_rough(_KneelOnOdd(), 4, rough)
    cells = {(c["type"], c["difficulty"]): c for c in result["cells"]}
    assert cells["stairs_up", 1.0]["step_height_m"] == pytest.approx(TerrainCfg().step_height_range[1])
