"""The operating-system parts rendering needs: the FluidSynth library and a SoundFont."""

import os

from nsynth_synth.errors import SystemDependencyError

DEFAULT_SOUNDFONT = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
INSTALL_COMMAND = "apt-get install -y --no-install-recommends fluidsynth fluid-soundfont-gm"


def require_soundfont(path):
    """Return `path` if it is a readable file, else raise naming the file (and the install command
    when it is the default FluidR3 GM SoundFont)."""
    if os.path.isfile(path):
        return path
    if os.path.abspath(path) == DEFAULT_SOUNDFONT:
        raise SystemDependencyError(
            f"the FluidR3 GM SoundFont {path} is missing; install it with: sudo {INSTALL_COMMAND}"
        )
    raise SystemDependencyError(f"{path}: no such SoundFont file (.sf2)")


def import_fluidsynth():
    """Import pyfluidsynth, which loads libfluidsynth; raise with the install command if absent."""
    try:
        import fluidsynth
    except ImportError as error:
        raise SystemDependencyError(
            f"the FluidSynth library cannot be loaded ({error}); install it with: "
            f"sudo {INSTALL_COMMAND}"
        ) from error
    return fluidsynth
