"""Test-only crash injection at the two moments that matter for exactly-once orders.

`BOT_TEST_CRASH_AT=submit:3:before` makes the process SIGKILL itself at its 3rd order,
after the intent is durable but before the exchange sees it; `...:after` lets the
exchange act first and dies before its answer is recorded (`cancel:N:...` likewise).
A real SIGKILL (no handler, no flush), so the crash tests exercise true crash-only
recovery. Wired in `cli.bootstrap.assemble`; unset (always, outside tests) it is a no-op.
"""
from __future__ import annotations

import os
import signal
from typing import Any, Mapping

from journal.errors import BadInput

ENV = "BOT_TEST_CRASH_AT"


class CrashingExchange:
    """Delegates everything to the real exchange; dies at the N-th submit or cancel."""

    def __init__(self, inner: Any, verb: str, nth: int, after: bool) -> None:
        self._inner, self._verb, self._nth, self._after = inner, verb, nth, after
        self._calls = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def _call(self, verb: str, request: Any) -> Any:
        if verb == self._verb:
            self._calls += 1
            if self._calls == self._nth:
                if self._after:
                    getattr(self._inner, verb)(request)
                os.kill(os.getpid(), signal.SIGKILL)
        return getattr(self._inner, verb)(request)

    def submit(self, order: Any) -> Any:
        return self._call("submit", order)

    def cancel(self, request: Any) -> Any:
        return self._call("cancel", request)


def maybe_wrap(exchange: Any, env: Mapping[str, str] | None = None) -> Any:
    spec = (os.environ if env is None else env).get(ENV)
    if not spec:
        return exchange
    try:
        verb, nth, moment = spec.split(":")
        if verb not in ("submit", "cancel") or moment not in ("before", "after") or int(nth) < 1:
            raise ValueError
    except ValueError:
        raise BadInput(f"env {ENV}={spec!r}: expected submit|cancel:N:before|after") from None
    return CrashingExchange(exchange, verb, int(nth), moment == "after")
