# shellcheck shell=bash
# Sourced by scripts/develop and scripts/e2e after scripts/lib.sh.
#
# prefer_newest_python USER_PYTHON USER_VENV: unless the user set PYTHON or VENV, use
# Python 3.14 (the newest Home Assistant) when scripts/setup would not find it itself:
# the interpreter ../shared/tools/provision-python3.14 provides, in .venv-3.14, as
# .ci/run does. Otherwise leave the choice to scripts/setup (python3.14 >= 3.14.2 on
# the PATH, else Python 3.13).
prefer_newest_python() {
  local cand provision
  [ -z "$1$2" ] || return 0
  if cand=$(command -v python3.14) && py_version_at_least "$cand" 3 14 2; then
    return 0
  fi
  provision="$(cd "$ROOT/.." && pwd)/shared/tools/provision-python3.14"
  [ -f "$provision" ] || return 0
  step "Python 3.14 from $provision"
  if cand=$(timeout 1200 bash "$provision" 2>/dev/null | tail -n 1) &&
    py_version_at_least "$cand" 3 14 2; then
    export PYTHON=$cand VENV=$ROOT/.venv-3.14
  else
    echo "it provided none; using Python 3.13"
  fi
}
