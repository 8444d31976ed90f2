#!/usr/bin/env bash
# Installs the Debian packages the toolkit needs when they are missing: FluidSynth and the FluidR3 GM
# SoundFont (rendering), and Chromium with its WebDriver (the listening-test browser test). As root it
# runs apt-get; otherwise it stops and prints the exact command.
set -euo pipefail
packages="fluidsynth fluid-soundfont-gm chromium chromium-driver"
if [ "${1:-}" = "--help" ]; then
  echo "usage: tools/install_system_deps.sh   (installs: $packages)"; exit 0
fi
have_lib() { ldconfig -p 2>/dev/null | grep -q 'libfluidsynth\.so'; }
if have_lib && [ -f /usr/share/sounds/sf2/FluidR3_GM.sf2 ] && command -v chromium >/dev/null \
    && command -v chromedriver >/dev/null; then
  exit 0
fi
command="apt-get install -y --no-install-recommends $packages"
if [ "$(id -u)" != 0 ]; then
  echo "FluidSynth, the FluidR3 GM SoundFont, Chromium or its driver is missing. Install them with:" >&2
  echo "  sudo $command" >&2
  exit 1
fi
echo "installing $packages"
export DEBIAN_FRONTEND=noninteractive
$command >/dev/null || { apt-get update >/dev/null && $command >/dev/null; }
