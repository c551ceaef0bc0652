"""Error bases the command line maps to exit codes (shared by every package).

BadInput  -> exit 2: the user gave us something we cannot use (path, config, candles, query).
CheckFailed -> exit 1: a check ran and found a problem (verify, replay mismatch).
The message is one line that names the file, key, row or offset.
"""


class BadInput(Exception):
    """Unusable input: exit code 2 with this one-line message, never a traceback."""


class CheckFailed(Exception):
    """A check ran and failed: exit code 1 with this message."""
