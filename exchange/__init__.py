"""Exchanges behind the `Exchange` port: the paper venue, the ccxt Binance adapter, the local server.
The paper venue runs compiled when built (build_core.py; see journal/native.py)."""
from journal.native import activate as _activate

COMPILED = _activate("exchange", __path__)
"""Whether this process runs the compiled modules of this package."""
