"""`--faults SPEC`: seeded, per-request fault injection.

SPEC is comma-separated `kind=rate` (0..1) plus `clock_skew_ms=N`, `seed=N` and
`hold_ms=N` (how long a `timeout_after_accept` answer is held back; default 15000,
longer than ccxt's 10 s timeout). Each eligible request rolls every configured kind
in a fixed order from one `random.Random(seed)`, so a given request sequence always
meets the same faults.
"""
from __future__ import annotations

import random
import threading
from collections import Counter
from dataclasses import dataclass, field

from journal.errors import BadInput

ORDER_FAULTS = ("timeout_after_accept", "drop_response", "partial_fill")
"""Faults only order placement meets (the order is accepted, then something goes wrong)."""
REQUEST_FAULTS = ("http_5xx", "rate_limit", "ban", "nonce", "auth")
"""Faults any /fapi request may meet before it is processed (nonce/auth: signed only)."""
KINDS = REQUEST_FAULTS + ORDER_FAULTS


@dataclass
class FaultSpec:
    rates: dict[str, float] = field(default_factory=dict)
    clock_skew_ms: int = 0
    seed: int = 0
    hold_ms: int = 15_000

    @classmethod
    def parse(cls, text: str | None) -> "FaultSpec":
        spec = cls()
        for item in filter(None, (part.strip() for part in (text or "").split(","))):
            key, sep, value = item.partition("=")
            if not sep:
                raise BadInput(f"--faults: '{item}' is not kind=value")
            try:
                if key in ("clock_skew_ms", "seed", "hold_ms"):
                    setattr(spec, key, int(value))
                    continue
                rate = float(value)
            except ValueError:
                raise BadInput(f"--faults: '{item}': value is not a number") from None
            if key not in KINDS:
                raise BadInput(f"--faults: unknown kind '{key}' (known: {', '.join(KINDS)})")
            if not 0.0 <= rate <= 1.0:
                raise BadInput(f"--faults: '{item}': rate must be within 0..1")
            spec.rates[key] = rate
        return spec


class FaultInjector:
    """Rolls faults for requests; counts what it injected (GET /sim/state)."""

    def __init__(self, spec: FaultSpec) -> None:
        self._lock = threading.Lock()
        self.injected: Counter[str] = Counter()
        self.configure(spec)

    def configure(self, spec: FaultSpec) -> None:
        with self._lock:
            self.spec = spec
            self._rng = random.Random(spec.seed)

    def roll(self, kinds: tuple[str, ...]) -> str | None:
        """The first of `kinds` that fires for this request (every configured kind is rolled)."""
        hit = None
        with self._lock:
            for kind in kinds:
                rate = self.spec.rates.get(kind, 0.0)
                if rate <= 0.0:
                    continue
                if self._rng.random() < rate and hit is None:
                    hit = kind
            if hit:
                self.injected[hit] += 1
        return hit
