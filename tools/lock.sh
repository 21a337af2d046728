#!/usr/bin/env bash
# Regenerate the hash-pinned locks from pyproject.toml with pip-tools (pip-compile):
#   requirements.lock      the runtime dependencies ([project] dependencies), for CI and any image
#   requirements-dev.lock  the same pins plus the dev extras (tests, linters, browser driver)
# Existing pins are kept; pass --upgrade, or --upgrade-package NAME, to move them.
# Needs pip-tools in the venv (.venv/bin/pip install pip-tools); PYTHON picks another interpreter.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
export CUSTOM_COMPILE_COMMAND="tools/lock.sh"
common=(--quiet --generate-hashes --strip-extras --no-emit-index-url --no-emit-find-links "$@")
"$PY" -m piptools compile "${common[@]}" -o requirements.lock pyproject.toml
"$PY" -m piptools compile "${common[@]}" --extra dev --constraint requirements.lock \
  -o requirements-dev.lock pyproject.toml
