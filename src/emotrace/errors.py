"""One error type for everything a user can get wrong, so the CLI can print one clear line instead of a traceback."""


class EmotraceError(Exception):
    """A problem with the user's input or setup; its message is one line meant for the user."""


class SourceError(EmotraceError):
    """A source (file, folder, URL, webcam) that cannot be opened or decoded."""
