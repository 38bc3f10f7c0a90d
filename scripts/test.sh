#!/usr/bin/env bash
# Sets up and runs the test suite on the CPU. Extra arguments go to pytest (e.g. -m "not slow").
set -uo pipefail
cd "$(dirname "$0")/.."
# The tests run the real RL libraries (integrations), USD import (usd-core) and the models and
# environments of Gymnasium-Robotics (robotics), and sweeps run Ray Tune (sweep), so install them too.
echo "test: setting up .venv with the RL libraries, USD and Gymnasium-Robotics (scripts/setup.sh)"
EXTRAS=dev,menagerie,integrations,usd,robotics,sweep ./scripts/setup.sh || exit 1
. .venv/bin/activate
# Lint first (about a second): a lint error fails the run as a failing test would.
echo "test: ruff check src tests benchmarks examples"
ruff check -q src tests benchmarks examples || exit 1
# Then the type check of src/ (configured in pyproject.toml's [tool.mypy] for Python 3.10, the
# oldest the project supports): a type error fails the run as a failing test would. About half a
# minute on a fresh clone, under a second with mypy's cache (.mypy_cache) warm.
echo "test: mypy src (type check for Python 3.10)"
mypy_start=$SECONDS
mypy src
mypy_status=$?
echo "test: mypy took $((SECONDS - mypy_start)) s"
[ "$mypy_status" = 0 ] || exit 1
echo "test: running pytest $* (the first MuJoCo Warp compile of each model takes about 20 s, then cached)"
# One worker process per core (pytest-xdist), each test file whole on one worker so that a file's
# module fixtures (built envs, compiled models) are made once. Warp's kernel cache is safe to fill from
# several processes (it builds into a temporary folder and renames). PYTEST_XDIST_AUTO_NUM_WORKERS
# sets the count; a later `-n 0` in the arguments runs everything in this process (e.g. for pdb).
python -m pytest -q -ra --durations=15 -n auto --dist loadfile "$@"
status=$?
if [ "$status" = 5 ]; then
  # pytest's "no tests collected": nothing failed, but nothing ran either; say so loudly.
  echo "test.sh: pytest collected no tests (exit 5); nothing was tested" >&2
  exit 0
fi
exit "$status"
