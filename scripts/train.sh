#!/usr/bin/env bash
# The main job: set up, train the default task, then write a video of the trained policy.
# On a GPU the default task is the humanoid; on a CPU it is cartpole-balance, which learns to
# balance within a few minutes. Extra arguments go to `warplab train` (e.g. --task Humanoid-v5).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "train: setting up .venv (scripts/setup.sh)"
./scripts/setup.sh
. .venv/bin/activate
echo "train: warplab train --video $*"
warplab train --video "$@"
