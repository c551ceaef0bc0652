"""Retry policy for venue calls (tenacity): only Retryable errors, honouring Retry-After."""
from __future__ import annotations

from dataclasses import dataclass

from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from exchange.binance_errors import Retryable


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    base_wait_s: float = 0.25
    max_wait_s: float = 8.0

    def retrying(self) -> Retrying:
        backoff = wait_exponential(multiplier=self.base_wait_s, max=self.max_wait_s)

        def wait(state) -> float:
            error = state.outcome.exception() if state.outcome else None
            after = getattr(error, "retry_after", None)
            if after is not None:
                return min(float(after), self.max_wait_s)
            return backoff(state)

        return Retrying(retry=retry_if_exception_type(Retryable), stop=stop_after_attempt(self.attempts),
                        wait=wait, reraise=True)
