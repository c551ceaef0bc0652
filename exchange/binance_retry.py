"""Retry policy for venue calls (tenacity): only Retryable errors, honouring Retry-After.

A Retry-After longer than the longest in-call wait (a 418 IP ban lasts minutes to days) is not
slept through inside the call: the call fails at once and the adapter refuses every request
until the ban is over (`GuardedClient`), so the loop keeps running and the ban is not extended.
`sleep` is injectable so tests never wait real seconds.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from exchange.binance_errors import Retryable


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    base_wait_s: float = 0.25
    max_wait_s: float = 8.0
    sleep: Callable[[float], None] = time.sleep

    def retries(self, error: BaseException) -> bool:
        """Retried inside this call: a Retryable whose Retry-After (if any) is short enough to wait."""
        if not isinstance(error, Retryable):
            return False
        return error.retry_after is None or error.retry_after <= self.max_wait_s

    def retrying(self) -> Retrying:
        backoff = wait_exponential(multiplier=self.base_wait_s, max=self.max_wait_s)

        def wait(state) -> float:
            error = state.outcome.exception() if state.outcome else None
            after = getattr(error, "retry_after", None)
            if after is not None:
                return min(float(after), self.max_wait_s)
            return backoff(state)

        return Retrying(retry=retry_if_exception(self.retries), stop=stop_after_attempt(self.attempts),
                        wait=wait, sleep=self.sleep, reraise=True)
