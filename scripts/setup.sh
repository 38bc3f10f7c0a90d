#!/usr/bin/env bash
# Sets up warplab in ./.venv on a fresh machine: PyTorch first (so pip never swaps it for another
# build), then warplab with its test tools, then the OSMesa library videos need on a CPU machine.
# Safe to run again: it only installs what is missing. Each stage says what it does on one line;
# pip itself stays quiet (its errors still show).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
start=$SECONDS
say() { echo "setup: $*"; }
if [ ! -x .venv/bin/python ]; then
  # Debian and Ubuntu ship Python without venv's pip bootstrap (the package python3-venv).
  if ! "$PYTHON" -c "import ensurepip, venv" 2>/dev/null && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    say "installing $(basename "$PYTHON")-venv (Python's virtual environments) with apt-get ..."
    (apt-get update -qq && apt-get install -y -qq "$(basename "$PYTHON")-venv") >/dev/null
  fi
  say "creating the virtual environment .venv with $("$PYTHON" --version 2>&1)"
  "$PYTHON" -m venv .venv
fi
. .venv/bin/activate
say "updating pip in .venv"
python -m pip install -q --upgrade pip >/dev/null
# torch 2.13.0: on a CPU machine this is the CPU build; on a GPU machine pip's default CUDA build.
if python -c "import torch" 2>/dev/null; then
  say "PyTorch $(python -c 'import torch; print(torch.__version__)') is installed"
else
  say "installing PyTorch 2.13.0 (the largest download: a few minutes) ..."
  python -m pip install -q "torch==2.13.0"
fi
# EXTRAS: the optional parts to install (scripts/test.sh adds the RL-library adapters and USD).
say "installing warplab (editable) with ${EXTRAS:-dev,menagerie}: MuJoCo, MuJoCo Warp, Warp, ONNX, tyro ..."
python -m pip install -q -e ".[${EXTRAS:-dev,menagerie}]"
# Offscreen rendering on a machine without a GPU uses OSMesa (Debian/Ubuntu package libosmesa6).
# Looked for as warplab looks for it when it draws (`ldconfig -p | grep -q` under pipefail fails
# where the loader's list is long, and ldconfig is not on a user's PATH everywhere).
if ! python -c "from warplab._gl import gl_library_present as p; raise SystemExit(not p('osmesa'))" 2>/dev/null; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    say "installing libosmesa6 (offscreen rendering of videos without a GPU) with apt-get ..."
    (apt-get update -qq && apt-get install -y -qq libosmesa6) >/dev/null 2>&1 \
      || echo "setup: could not install libosmesa6; videos need it on a machine without a GPU" >&2
  else
    echo "setup: install OSMesa for videos on a CPU machine (sudo apt-get install libosmesa6)" >&2
  fi
fi
say "ready in $((SECONDS - start)) s (. .venv/bin/activate to use warplab)"
