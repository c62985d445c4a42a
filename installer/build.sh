#!/usr/bin/env bash
# Build the one-folder program: dist/pingan-desk/ with the executable dist/pingan-desk/pingan-desk.
#   bash installer/build.sh            set up (.venv with the installer extra), then build
#   bash installer/build.sh --check    ... then run the built program's --self-test
# Needs what `bash scripts/setup.sh install` installs; PyInstaller comes from the project's
# `installer` extra. The build takes a few minutes on 2 cores (it is CPU-heavy).
set -euo pipefail
cd "$(dirname "$0")/.."
check=0
[ "${1:-}" = "--check" ] && check=1

# the project's environment: set up once (a second build does not touch it)
if ! .venv/bin/python -c "import desktop, PySide6, av, pyproj" 2>/dev/null; then
  bash scripts/setup.sh install >&2
fi
if ! .venv/bin/python -c "import PyInstaller" 2>/dev/null; then
  echo "build: installing PyInstaller (the installer extra)" >&2
  .venv/bin/python -m pip install -q -e ".[installer]" >&2
fi

start=$(date +%s)
.venv/bin/python -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath dist --workpath build/pyinstaller installer/pingan-desk.spec >&2

out=dist/pingan-desk
# Debug sections of the interpreter and the compiled extension modules (libpython alone:
# 23 MB -> 6 MB) are of no use at a workstation; only files that carry them are touched,
# and --check / the smoke test run the stripped program.
if command -v strip >/dev/null && command -v file >/dev/null; then
  find "$out" -type f \( -name '*.so' -o -name '*.so.*' \) -print0 |
    while IFS= read -r -d '' f; do
      if file -b "$f" | grep -q "with debug_info"; then strip --strip-debug "$f"; fi
    done
fi
# The folder plugins are loaded from source: compile them now (for the bundled interpreter,
# the same Python as .venv) so a start does not compile them, even from a read-only folder.
.venv/bin/python -m compileall -q "$out/_internal/plugins" >&2
# the desktop entry and its icon beside the program (installed per user by the script)
cp installer/pingan-desk.desktop installer/install-desktop-entry.sh resources/icons/pingan-desk.png "$out/"
chmod +x "$out/install-desktop-entry.sh"
secs=$(( $(date +%s) - start ))
size=$(( $(du -sb "$out" | cut -f1) / 1000000 ))  # MB of 10^6 bytes
echo "build: $out/pingan-desk built in ${secs} s; the folder weighs ${size} MB" >&2
if [ "$size" -gt 350 ]; then
  echo "build: WARNING: over the 350 MB budget" >&2
fi
if [ "$check" = 1 ]; then
  QT_QPA_PLATFORM=offscreen "$out/pingan-desk" --self-test
fi
