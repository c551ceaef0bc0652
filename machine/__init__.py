"""The pure decision core. Its modules run compiled when built (build_core.py; see journal/native.py)."""
from journal.native import activate as _activate

COMPILED = _activate("machine", __path__)
"""Whether this process runs the compiled core (reported by the benchmarks)."""
