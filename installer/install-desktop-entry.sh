#!/usr/bin/env bash
# Put Pingan Desk in the desktop's application menu, for this user (no root needed).
# Run it from the built folder: `bash dist/pingan-desk/install-desktop-entry.sh`
# (the entry points at the program beside this script, so move the folder first, then run it).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
apps="${XDG_DATA_HOME:-$HOME/.local/share}/applications"
icons="${XDG_DATA_HOME:-$HOME/.local/share}/icons/hicolor/256x256/apps"
mkdir -p "$apps" "$icons"
cp "$here/pingan-desk.png" "$icons/pingan-desk.png"
sed -e "s|@EXEC@|\"$here/pingan-desk\"|" -e "s|@ICON@|pingan-desk|" \
    "$here/pingan-desk.desktop" > "$apps/pingan-desk.desktop"
chmod 644 "$apps/pingan-desk.desktop"
command -v update-desktop-database >/dev/null && update-desktop-database -q "$apps" || true
echo "installed $apps/pingan-desk.desktop -> $here/pingan-desk"
