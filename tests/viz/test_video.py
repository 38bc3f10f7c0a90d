"""Videos play at the frame rate asked for and in real time: which steps the frames show, and the
MP4's own frame rate and duration as a player reads them."""

from __future__ import annotations

import numpy as np
import pytest

from warplab.viz import frame_indices, write_mp4


def test_frames_show_the_step_nearest_their_time():
    # 1 s of 20 ms steps (step i holds the state at (i + 1) * 20 ms) at 30 fps: frame k at (k + 1) / 30 s.
    steps = frame_indices(50, 0.02, 30.0)
    assert len(steps) == 30
    # 33 ms -> step 1 (40 ms), 67 ms -> step 2 (60 ms), 100 ms -> step 4, 133 ms -> step 6 (140 ms).
    assert steps[:4].tolist() == [1, 2, 4, 6]
    assert steps[-1] == 49  # the last frame is the last step: the video ends when the rollout does
    # At 25 fps every second step; at 50 fps every step; at 100 fps each step twice.
    assert frame_indices(50, 0.02, 25.0).tolist() == list(range(1, 50, 2))
    assert frame_indices(50, 0.02, 50.0).tolist() == list(range(50))
    assert frame_indices(3, 0.02, 100.0).tolist() == [0, 0, 1, 1, 2, 2]


@pytest.mark.parametrize("bad", [(0, 0.02, 30.0), (10, 0.0, 30.0), (10, 0.02, float("nan"))])
def test_frame_indices_refuses_what_has_no_video(bad):
    with pytest.raises(ValueError, match="num_steps >= 1, policy_dt > 0, fps > 0"):
        frame_indices(*bad)


@pytest.mark.parametrize("fps", [24.0, 30.0])
def test_the_mp4_says_its_frame_rate_and_lasts_the_rollout(tmp_path, fps):
    import imageio.v2 as imageio

    steps = frame_indices(100, 0.02, fps)  # 2 s of rollout
    frames = [np.full((64, 96, 3), 10 * (i % 20), dtype=np.uint8) for i in range(len(steps))]
    path = write_mp4(frames, tmp_path / "v.mp4", fps=fps)
    with imageio.get_reader(path) as reader:
        meta = reader.get_meta_data()
        count = sum(1 for _ in reader)
    assert meta["fps"] == pytest.approx(fps)
    assert count == len(steps) == round(2.0 * fps)
    assert meta["duration"] == pytest.approx(2.0, abs=1.0 / fps)


@pytest.mark.parametrize("name", ["video", "video.txt"])
def test_a_name_no_video_can_have_is_refused_before_anything_is_written(tmp_path, name):
    # The container comes from the suffix: without one, imageio failed once the rollout had run,
    # naming the temporary file.
    frames = [np.zeros((48, 64, 3), dtype=np.uint8)] * 3
    with pytest.raises(ValueError, match=rf"video {tmp_path / name}: .*give a file name ending in \.mp4"):
        write_mp4(frames, tmp_path / name, fps=30.0)
    assert list(tmp_path.iterdir()) == []
    assert write_mp4(frames, tmp_path / "video.MOV", fps=30.0).stat().st_size > 0
