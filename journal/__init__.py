"""The durable event journal: the only source of truth.

events.py    the event vocabulary (one msgspec tagged union)
record.py    the envelope stored per event (seq, ts, recorded_at, v, prev, event)
framing.py   the bytes: segment header, frame, hash chain      codec.py / upcast.py  payloads, old schemas
writer.py    the single writer (lock.py, recovery.py)          reader.py / scan.py   verifying reads, follow
verify.py, stats.py, tail.py, export.py, bench.py: what the `journal` commands run
batch.py     framing a batch in memory (the writer's loop; in C with its committer thread: _cframer.c)
native.py    which compiled modules load (machine/, cli/, exchange/, and the C framer here)
"""
from journal.native import activate as _activate

COMPILED = _activate("journal", __path__)
"""Whether this process runs the compiled modules of this package (the C framer)."""
