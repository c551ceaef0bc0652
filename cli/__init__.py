"""The shell: commands, the run loop and its wiring. The loop modules run compiled when built
(build_core.py; see journal/native.py)."""
from journal.native import activate as _activate

COMPILED = _activate("cli", __path__)
"""Whether this process runs the compiled modules of this package."""
