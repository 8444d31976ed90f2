"""Errors the toolkit raises for bad input. The command line prints their message and exits 1."""


class NsynthSynthError(Exception):
    """Base class: the message names the file or field and what was expected."""


class AudioError(NsynthSynthError):
    """Unreadable audio, or audio of the wrong shape or rate."""


class MidiError(NsynthSynthError):
    """A score that cannot be read, or one with nothing to play."""


class DataError(NsynthSynthError):
    """A data set that is missing, incomplete, corrupt or built differently than asked."""


class OutputError(NsynthSynthError):
    """An output path that cannot be written as asked (a folder where a file is wanted)."""


class SystemDependencyError(NsynthSynthError):
    """A program or file from the operating system (FluidSynth, a SoundFont) is missing."""


class ConfigError(NsynthSynthError):
    """An unknown preset or a configuration field out of range."""


class TrainingError(NsynthSynthError):
    """A run that cannot start or resume as asked."""


class ServingError(NsynthSynthError):
    """The server refused a request or could not be reached."""


class RequestTooLong(ServingError):
    """The server's limit, parsed from its error, in frames."""

    def __init__(self, message, max_frames):
        super().__init__(message)
        self.max_frames = max_frames


class ExportError(NsynthSynthError):
    """An export that cannot be written or read as asked."""


class ServingConfigError(NsynthSynthError):
    """A TF Serving configuration that does not parse or names no model."""
