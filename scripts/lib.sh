# shellcheck shell=bash
# Shared helpers, sourced (not run) by scripts/* and .ci/run.
#
# Sets ROOT (the repository root) and VENV (the virtual environment: $VENV if set,
# relative to the directory the command was started from, else $ROOT/.venv).

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

if [ -z "${VENV:-}" ]; then
  VENV=$ROOT/.venv
elif [ "${VENV#/}" = "$VENV" ]; then
  VENV=$PWD/$VENV
fi
export VENV

# The tools print their own progress; keep pip's update nagging out of it.
export PIP_DISABLE_PIP_VERSION_CHECK=1

die() {
  echo "error: $*" >&2
  exit 1
}

step() {
  printf '\n==> %s\n' "$*"
}

# timed WHAT COMMAND...: say WHAT, run COMMAND, then say how long it took. A line every
# 15 s says it is still running, so that a long download is never silent.
timed() {
  local what=$1 start=$SECONDS rc=0 ticker
  shift
  step "$what"
  (
    # A signal waits for a foreground command, not for `wait`: sleep in the background.
    sleeper=""
    trap 'kill "$sleeper" 2>/dev/null; exit 0' TERM
    while :; do
      sleep 15 &
      sleeper=$!
      wait "$sleeper"
      printf '    ... %d s\n' $((SECONDS - start))
    done
  ) &
  ticker=$!
  "$@" || rc=$?
  kill "$ticker" 2>/dev/null || true
  wait "$ticker" 2>/dev/null || true
  if [ "$rc" -eq 0 ]; then
    printf '    done in %d s\n' $((SECONDS - start))
  fi
  return "$rc"
}

# py_identity PYTHON: who an interpreter is, the same whether asked directly or through a
# virtual environment made from it.
py_identity() {
  "$1" -c 'import sys; print(sys.base_prefix, sys.version.split()[0], sys.implementation.cache_tag)'
}

# venv_identity: py_identity of $VENV's interpreter; nothing when it has none that runs
# and is at least 3.13.
venv_identity() {
  if [ -x "$VENV/bin/python" ] && py_version_at_least "$VENV/bin/python" 3 13 0; then
    py_identity "$VENV/bin/python"
  fi
}

# make_venv PYTHON: create $VENV with PYTHON, or rebuild it when it was made with another
# interpreter (or one that no longer runs, or is older than 3.13).
make_venv() {
  local have want
  have=$(venv_identity)
  want=$(py_identity "$1")
  [ "$have" != "$want" ] || return 0
  if [ -e "$VENV" ]; then
    step "Rebuilding $VENV with $1 (it was made with: ${have:-an interpreter that no longer runs, or is older than 3.13})"
  else
    step "Creating $VENV with $1"
  fi
  "$1" -m venv --clear "$VENV"
}

# py_version_at_least PYTHON MAJOR MINOR MICRO: PYTHON runs and is at least that version.
py_version_at_least() {
  "$1" -c "import sys; sys.exit(sys.version_info[:3] < ($2, $3, $4))" >/dev/null 2>&1
}

# py_version_is PYTHON MAJOR MINOR: PYTHON runs and is MAJOR.MINOR.
py_version_is() {
  "$1" -c "import sys; sys.exit(sys.version_info[:2] != ($2, $3))" >/dev/null 2>&1
}

# find_python313: print a working Python 3.13: python3.13 on PATH (a pyenv shim that
# is not active fails to run and is skipped), else the newest pyenv 3.13.x.
find_python313() {
  local cand pyenv_root=""
  if cand=$(command -v python3.13) && py_version_is "$cand" 3 13; then
    echo "$cand"
    return 0
  fi
  if command -v pyenv >/dev/null 2>&1; then
    pyenv_root=$(pyenv root 2>/dev/null) || pyenv_root=""
  fi
  pyenv_root=${pyenv_root:-${PYENV_ROOT:-$HOME/.pyenv}}
  cand=$(
    for p in "$pyenv_root"/versions/3.13.*/bin/python3.13; do
      [[ $p =~ /versions/3\.13\.[0-9]+/bin/python3\.13$ ]] && echo "$p"
    done | sort -V | tail -n 1
  )
  if [ -n "$cand" ] && py_version_is "$cand" 3 13; then
    echo "$cand"
    return 0
  fi
  return 1
}

# find_python: print the interpreter scripts/setup builds the environment with:
# $PYTHON if set; else python3.14 on PATH when it runs and is >= 3.14.2; else Python 3.13
# as find_python313 finds it. Exits with a message when there is none.
find_python() {
  local cand
  if [ -n "${PYTHON:-}" ]; then
    cand=$(command -v "$PYTHON") || die "PYTHON=$PYTHON: no such interpreter"
    py_version_at_least "$cand" 3 13 0 ||
      die "PYTHON=$PYTHON does not run, or is older than Python 3.13"
    echo "$cand"
    return 0
  fi
  if cand=$(command -v python3.14) && py_version_at_least "$cand" 3 14 2; then
    echo "$cand"
    return 0
  fi
  if cand=$(find_python313); then
    echo "$cand"
    return 0
  fi
  die "no suitable Python found. Tried: \$PYTHON (unset), python3.14 >= 3.14.2 on PATH," \
    "python3.13 on PATH, and pyenv's versions/3.13.*. Install Python 3.13" \
    "(e.g. 'pyenv install 3.13') or set PYTHON=/path/to/python3.13."
}
