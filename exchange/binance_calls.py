"""One guarded path for every ccxt call: translate errors, retry, resync the clock.

Each failed attempt becomes an ErrorObserved event (the kill switch counts bursts);
a -1021 triggers one clock resync (recorded as ClockObserved) before the retry, and a
second -1021 after resync is fatal.

A 418 (IP ban) or 429 with Retry-After is remembered for the whole adapter: until it is
over every call fails at once with a retryable `rate_limit` error and sends nothing
(requests inside a ban make Binance extend it). `monotonic` is injectable for tests.
"""
from __future__ import annotations

import time
from typing import Any, Callable

import ccxt
import requests

from exchange.binance_clock import resync
from exchange.binance_errors import Fatal, Retryable, VenueError, translate
from exchange.binance_retry import RetryPolicy
from journal.events import ClockObserved, ErrorObserved, Event


class GuardedClient:
    def __init__(self, client: ccxt.binanceusdm, policy: RetryPolicy, secrets: tuple[str, ...],
                 drift_alarm_ms: int = 1000, now_ms: Callable[[], int] | None = None,
                 monotonic: Callable[[], float] | None = None) -> None:
        self.client = client
        self.monotonic = monotonic or time.monotonic
        self.banned_until = 0.0  # on `monotonic`: no request before this (the venue's Retry-After)
        self.now_ms = now_ms
        self.drift_alarm_ms = drift_alarm_ms
        self.policy = policy
        self._secrets = secrets
        self.last_drift_ms: int | None = None

    def __repr__(self) -> str:
        return "GuardedClient(<ccxt binanceusdm>)"

    def translate(self, exc: Exception) -> VenueError:
        headers = getattr(self.client, "last_response_headers", None) or {}
        retry_after = headers.get("Retry-After") if hasattr(headers, "get") else None
        try:
            after = float(retry_after) if retry_after is not None else None
        except ValueError:
            after = None
        return translate(exc, *self._secrets, retry_after=after)

    def error_event(self, error: VenueError, ts: int, symbol: str | None = None,
                    client_id: str | None = None) -> ErrorObserved:
        """An error as an input. With the shell's clock (`now_ms`) every error is stamped when it
        happened: the kill switch counts errors inside a time window, and a placement error stamped
        with its order's bar time would sit an hour before a polling error of the same burst."""
        if self.now_ms is not None:
            ts = self.now_ms()
        return ErrorObserved(ts=ts, reason=error.reason, source="exchange", code=error.code,
                             message=error.message, symbol=symbol, client_id=client_id)

    def resync(self, ts: int) -> ClockObserved:
        event = resync(self.client, ts)
        self.last_drift_ms = event.drift_ms
        return event

    def refuse_while_banned(self) -> None:
        """Raise (sending nothing) while the venue's Retry-After is running."""
        left = self.banned_until - self.monotonic()
        if left > 0:
            raise Retryable(f"rate limited by the venue: no request for {left:.1f} s more (Retry-After)",
                            code=-1003, reason="rate_limit", retry_after=left)

    def once(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """One attempt; ccxt errors come out as VenueError."""
        self.refuse_while_banned()
        try:
            return fn(*args, **kwargs)
        except ccxt.BaseError as exc:
            error = self.translate(exc)
            if error.reason == "rate_limit" and error.retry_after:
                self.banned_until = max(self.banned_until, self.monotonic() + error.retry_after)
            raise error from None
        except (OSError, requests.RequestException) as exc:  # transport failures ccxt did not wrap
            raise translate(exc, *self._secrets) from None

    def call(self, events: list[Event], ts: int, fn: Callable[..., Any], *args: Any,
             symbol: str | None = None, client_id: str | None = None, **kwargs: Any) -> Any:
        """Retry `fn` under the policy; append every failure (and resync) to `events`."""
        resynced = False
        for attempt in self.policy.retrying():
            with attempt:
                try:
                    return self.once(fn, *args, **kwargs)
                except VenueError as error:
                    events.append(self.error_event(error, ts, symbol, client_id))
                    if error.reason == "nonce":
                        if resynced:
                            raise Fatal(error.message, code=error.code, reason="nonce") from None
                        self.resync_safely(events, ts)
                        resynced = True
                    raise
        raise Retryable("retries exhausted")  # unreachable: tenacity reraises

    def resync_safely(self, events: list[Event], ts: int) -> None:
        """Resync; record the drift, and a time_drift error when it is beyond the alarm."""
        try:
            self.refuse_while_banned()
            clock = self.resync(ts)
        except VenueError as error:
            events.append(self.error_event(error, ts))
            return
        except ccxt.BaseError as exc:
            events.append(self.error_event(self.translate(exc), ts))
            return
        events.append(clock)
        if abs(clock.drift_ms) > self.drift_alarm_ms:
            events.append(ErrorObserved(ts=self.now_ms() if self.now_ms is not None else ts, reason="time_drift", source="exchange", code=-1021,
                                        message=f"exchange clock differs by {clock.drift_ms} ms; resynced"))
