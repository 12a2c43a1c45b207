#!/usr/bin/env bash
# Everything the tests need on a fresh machine, then lint and the whole suite:
#   1. current numpy/Pillow/OpenEXR/opencv (Python 3.11+): the command-line tool's world;
#   2. A1111 1.10.1's pins (Python 3.10, numpy 1.26.2, Pillow 9.5.0, opencv 4.11, OpenEXR 3.5.2): the
#      extension's world. This run is last and runs every test, lint (ruff) and the type check (mypy)
#      included.
# A Blender venv (bpy 5.0.1, Python 3.11) renders a real scene with the exporter unless
# SCENE_IMPORT_SKIP_BPY=1. Fails when any test fails or when a suite collects no test.
set -euo pipefail
cd "$(dirname "$0")/.."

# the first interpreter that runs (pyenv shims exist for versions that are not enabled)
pick() { for p in "$@"; do if [ -n "$p" ] && "$p" -c 'import venv' >/dev/null 2>&1; then echo "$p"; return; fi; done; }
PYENV_VERSIONS="${PYENV_ROOT:-$HOME/.pyenv}/versions"
PY_PINNED=$(pick python3.10 "$(ls -d "$PYENV_VERSIONS"/3.10*/bin/python3.10 2>/dev/null | tail -n1)" python3)
PY_CURRENT=$(pick python3.11 "$(ls -d "$PYENV_VERSIONS"/3.11*/bin/python3.11 2>/dev/null | tail -n1)" python3.12 python3)
PY_BPY=$(pick python3.11 "$(ls -d "$PYENV_VERSIONS"/3.11*/bin/python3.11 2>/dev/null | tail -n1)")
PIP_FLAGS=(-q --disable-pip-version-check)
export PIP_NO_WARN_SCRIPT_LOCATION=1

venv() {  # venv DIR PYTHON REQUIREMENTS
  local dir=$1 py=$2 req=$3
  [ -x "$dir/bin/python" ] || "$py" -m venv "$dir"
  "$dir/bin/python" -m pip install "${PIP_FLAGS[@]}" -r "$req"
  "$dir/bin/python" -m pip install "${PIP_FLAGS[@]}" --no-deps -e .
}

suite() {  # suite NAME PYTHON ARGS... ; pytest's 5 (no tests collected) is a failure here
  local name=$1 py=$2; shift 2
  echo "== $name: $("$py" --version 2>&1), $("$py" -c 'import numpy, PIL, OpenEXR; print("numpy", numpy.__version__, "Pillow", PIL.__version__, "OpenEXR", OpenEXR.__version__)')"
  set +e
  "$py" -m pytest "$@"
  local rc=$?
  set -e
  if [ "$rc" -eq 5 ]; then echo "$name: pytest collected no tests" >&2; return 1; fi
  return "$rc"
}

# Chromium for the browser test of the Scene Import tab (Debian's package; Playwright never downloads one)
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
    || echo "warning: could not install chromium; the browser test will be skipped" >&2
fi

if [ "${SCENE_IMPORT_SKIP_BPY:-0}" != "1" ] && [ -n "$PY_BPY" ]; then
  if { [ -x .venv-bpy/bin/python ] || "$PY_BPY" -m venv .venv-bpy; } \
    && .venv-bpy/bin/python -m pip install "${PIP_FLAGS[@]}" bpy==5.0.1 OpenEXR; then
    export SCENE_IMPORT_BPY_PYTHON="$PWD/.venv-bpy/bin/python"
  else
    echo "warning: no bpy 5.0.1 venv; the real-Blender tests will be skipped" >&2
  fi
fi

venv .venv-test-current "$PY_CURRENT" tests/requirements-current.txt
venv .venv-test-a1111 "$PY_PINNED" tests/requirements-a1111.txt

echo "== lint"
.venv-test-a1111/bin/ruff check .
.venv-test-a1111/bin/ruff format --check .

echo "== types: $(.venv-test-a1111/bin/mypy --version) (pyproject.toml [tool.mypy]: strict on lib_scene)"
.venv-test-a1111/bin/mypy

suite "current packages" .venv-test-current/bin/python -q -m "not browser and not integration" -p no:cacheprovider
suite "A1111 1.10.1 pins" .venv-test-a1111/bin/python -p no:cacheprovider
