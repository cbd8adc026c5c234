# shellcheck shell=bash
# Sourced by scripts/develop and scripts/e2e after scripts/lib.sh: the development
# environment, the newest Home Assistant an interpreter can install (requirements_dev.txt)
# with its frontend, in a virtual environment of its own: never the test environments
# (.venv, .venv-3.14), whose Home Assistant the pinned test plugin decides.

# The uv that installs Home Assistant the first time; Home Assistant depends on uv itself
# (it installs integrations' requirements with it), so its own pin replaces this one.
UV_BOOTSTRAP=0.13.6

# newest_python: print the interpreter that gets the newest Home Assistant: python3.14
# (3.14.2 or newer) on the PATH; else the one ../shared/tools/provision-python3.14
# provides, as .ci/run uses; else Python 3.13 (find_python313).
newest_python() {
  local cand provision
  if cand=$(command -v python3.14) && py_version_at_least "$cand" 3 14 2; then
    echo "$cand"
    return 0
  fi
  provision="$(cd "$ROOT/.." && pwd)/shared/tools/provision-python3.14"
  if [ -f "$provision" ]; then
    step "Python 3.14 from $provision" >&2
    if cand=$(timeout 1200 bash "$provision" 2>/dev/null | tail -n 1) &&
      py_version_at_least "$cand" 3 14 2; then
      echo "$cand"
      return 0
    fi
    echo "it provided none; using Python 3.13" >&2
  fi
  find_python313 || die "no Python 3.14.2+ or 3.13 found (python3.14 or python3.13 on the" \
    "PATH, or pyenv's versions/3.13.*); or set PYTHON=/path/to/python"
}

# develop_venv PYTHON: print the development environment's folder for PYTHON, one per
# Python minor version: .venv-develop-3.14, .venv-develop-3.13.
develop_venv() {
  echo "$ROOT/.venv-develop-$("$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
}

# uv_pip_install ARGS...: uv pip install ARGS into $VENV. uv lists every package it adds
# or removes, and draws progress bars only on a terminal: keep its phases (resolved,
# each large download, built, installed, each with its time), indented.
uv_pip_install() {
  "$VENV/bin/uv" pip install --python "$VENV/bin/python" "$@" 2>&1 |
    { grep --line-buffered -v -e '^ [-+~] ' -e '^Using Python ' || true; } |
    sed -u 's/^ */    /'
}

# uv_bootstrap: install uv $UV_BOOTSTRAP into $VENV with pip, quietly, leaving out the
# warnings a pip configuration gives about a local package folder that does not exist.
uv_bootstrap() {
  "$VENV/bin/python" -m pip install --quiet --progress-bar off "uv==$UV_BOOTSTRAP" 2>&1 |
    { grep -v -e "^WARNING: Location 'file:.*' is ignored: it is neither a file nor a directory" || true; }
}

# install_home_assistant: requirements_dev.txt into $VENV: Home Assistant's own wheel
# first, alone, for the versions it pins for everything it depends on
# (package_constraints.txt, which its container images install with); then the rest,
# at those versions.
install_home_assistant() {
  local constraints
  uv_pip_install --no-deps -r "$ROOT/requirements_dev.txt" || return 1
  constraints=$(ha_constraints) || return 1
  uv_pip_install -r "$ROOT/requirements_dev.txt" -c "$constraints"
}

# develop_env PYTHON: make $VENV the development environment for PYTHON, with the Home
# Assistant requirements_dev.txt pins for it. Fast when nothing changed: nothing is
# installed while a stamp matches requirements_dev.txt and the interpreter.
develop_env() {
  local stamp=$VENV/.develop-stamp digest
  [ ! -e "$VENV/.setup-stamp" ] ||
    die "$VENV is a test environment (scripts/setup's, requirements_test.txt): the" \
      "development environment is one of its own; unset VENV (it defaults to .venv-develop-3.X)"
  make_venv "$1"
  digest=$({ cat "$ROOT/requirements_dev.txt"; py_identity "$1"; } | sha256sum | cut -d' ' -f1)
  [ "$(cat "$stamp" 2>/dev/null)" != "$digest" ] || return 0
  rm -f "$stamp"
  if [ ! -x "$VENV/bin/uv" ]; then
    timed "Installing uv $UV_BOOTSTRAP into $VENV (it installs Home Assistant)" uv_bootstrap ||
      die "pip could not install uv into $VENV"
  fi
  timed "Installing Home Assistant into $VENV (requirements_dev.txt; the first time about 100 packages, ~150 MB)" \
    install_home_assistant || die "uv could not install requirements_dev.txt into $VENV"
  echo "$digest" >"$stamp"
}

# develop_requirements CONFIG: install what CONFIG's configuration needs and is missing
# (the frontend among it), at the versions the installed Home Assistant pins; Home
# Assistant would otherwise install them at its first start, one package at a time.
# Looking takes seconds (it imports Home Assistant's bootstrap): skipped while a stamp
# matches the configuration, scripts/demo.py and the environment's own stamp.
develop_requirements() {
  local missing constraints stamp=$VENV/.develop-config-stamp digest
  digest=$(cat "$1/configuration.yaml" "$ROOT/scripts/demo.py" "$VENV/.develop-stamp" |
    sha256sum | cut -d' ' -f1)
  [ "$(cat "$stamp" 2>/dev/null)" != "$digest" ] || return 0
  missing=$("$VENV/bin/python" "$ROOT/scripts/demo.py" requirements --config "$1")
  if [ -n "$missing" ]; then
    mapfile -t missing <<<"$missing"
    constraints=$(ha_constraints) || die "no package_constraints.txt in $VENV's Home Assistant"
    timed "Installing ${#missing[@]} package(s) for the development configuration (the frontend is ~110 MB)" \
      uv_pip_install -c "$constraints" "${missing[@]}" ||
      die "uv could not install the requirements of the development configuration"
  fi
  echo "$digest" >"$stamp"
}

# ha_constraints: print the path of the versions the Home Assistant in $VENV pins, found
# without importing it (its own dependencies may not be installed yet).
ha_constraints() {
  "$VENV/bin/python" -c 'import importlib.util, pathlib; print(pathlib.Path(importlib.util.find_spec("homeassistant").origin).parent / "package_constraints.txt")'
}

# newest_pin: print the newest Home Assistant requirements_dev.txt pins and the Python it
# needs: "2026.11.0 3.14.2".
newest_pin() {
  sed -n 's/^homeassistant==\([^;[:space:]]*\); *python_full_version >= "\([0-9.]*\)"$/\1 \2/p' \
    "$ROOT/requirements_dev.txt" | sort -V | tail -n 1
}

# ha_version: print the Home Assistant version in $VENV.
ha_version() {
  "$VENV/bin/python" -c 'from importlib.metadata import version; print(version("homeassistant"))'
}
