"""Building a task's env config never loads the learner: each family keeps its agent config in its
own module (``tasks/<family>/agent_cfg.py``), imported only when the agent config is asked for.

Checked in a fresh interpreter, where ``sys.modules`` shows exactly what the imports pulled in."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"

PROBE = """
import importlib, json, pkgutil, sys
import warplab.tasks

def learner_loaded():
    return sorted(m for m in sys.modules if m == "warplab.rl" or m.startswith("warplab.rl."))

report = {}
warplab.tasks.make_env_cfg("humanoid-velocity-flat")
report["after_humanoid_velocity_flat"] = learner_loaded()
for name in warplab.tasks.list_tasks():
    warplab.tasks.make_env_cfg(name)
    warplab.tasks.make_env_cfg(name, play=True)
report["after_every_task"] = learner_loaded()
# Every module of the task packages but the agent configs, including any builtin does not import.
modules = [
    m.name for m in pkgutil.walk_packages(warplab.tasks.__path__, "warplab.tasks.")
    if not m.name.endswith(".agent_cfg")
]
for name in modules:
    importlib.import_module(name)
report["modules"] = modules
report["after_every_module"] = learner_loaded()
warplab.tasks.get_task("humanoid-velocity-flat").agent_cfg_factory()
report["after_agent_cfg"] = learner_loaded()
print(json.dumps(report))
"""


def test_env_configs_of_every_task_leave_the_learner_unimported():
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, check=False, timeout=300
    )
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["after_humanoid_velocity_flat"] == []
    assert report["after_every_task"] == [], "a task's env config imported warplab.rl"
    assert report["after_every_module"] == [], (
        f"a module of warplab.tasks (other than an agent_cfg) imports warplab.rl: {report['modules']}"
    )
    # The probe sees the learner once it is really loaded: asking for an agent config loads it.
    assert "warplab.rl.config" in report["after_agent_cfg"]
    # Each family's package is among the modules walked, so a new family is covered too.
    for family in ("cartpole", "velocity", "recovery", "gym_mujoco"):
        assert f"warplab.tasks.{family}" in report["modules"]
