"""ccxt exceptions translated into our small hierarchy at the boundary.

- Retryable: network, timeout, 5xx, rate limit (with the venue's Retry-After), nonce
  (after a clock resync). `ambiguous` marks failures after which an order may or may
  not exist on the venue: look it up by client id before any resend.
- Rejected: the venue refused this request (margin, min notional, unknown order, ...).
- Fatal: retrying cannot help (auth, invalid signature, a nonce error that survives resync).

`reason` is the low-cardinality label of ErrorObserved: auth, nonce, time_drift,
network, rate_limit, margin, rejected. Messages are scrubbed: no query strings
(signatures) and never the key or secret.
"""
from __future__ import annotations

import json
import re

import ccxt

REJECT_REASONS = {-2019: "margin", -2018: "margin", -2024: "margin", -4164: "min_notional",
                  -4116: "duplicate", -2022: "reduce_only", -2011: "unknown_order", -2013: "unknown_order",
                  -2021: "would_trigger"}


class VenueError(Exception):
    reason = "rejected"
    ambiguous = False

    def __init__(self, message: str, *, code: int | None = None, reason: str | None = None,
                 retry_after: float | None = None, ambiguous: bool | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.retry_after = retry_after
        if reason:
            self.reason = reason
        if ambiguous is not None:
            self.ambiguous = ambiguous

    @property
    def order_reason(self) -> str:
        """OrderRejected.reason: finer than ErrorObserved.reason."""
        return REJECT_REASONS.get(self.code or 0, self.reason)


class Retryable(VenueError):
    reason = "network"


class Rejected(VenueError):
    reason = "rejected"


class Fatal(VenueError):
    reason = "auth"


def _code_of(message: str) -> int | None:
    start = message.find("{")
    if start < 0:
        return None
    try:
        body = json.loads(message[start:])
    except ValueError:
        return None
    code = body.get("code") if isinstance(body, dict) else None
    return int(code) if isinstance(code, (int, str)) and str(code).lstrip("-").isdigit() else None


def scrub(message: str, *secrets: str) -> str:
    message = re.sub(r"\?\S*", "", message)  # query strings carry signatures
    message = re.sub(r"signature=\w+", "signature=***", message)
    for secret in secrets:
        if secret:
            message = message.replace(secret, "***")
    return " ".join(message.split())[:300]


def translate(exc: Exception, *secrets: str, retry_after: float | None = None) -> VenueError:
    """One ccxt exception as our VenueError (never raises itself)."""
    message = scrub(str(exc), *secrets)
    code = _code_of(str(exc))
    if isinstance(exc, ccxt.InvalidNonce):
        return Retryable(message, code=code, reason="nonce")
    if isinstance(exc, (ccxt.DDoSProtection, ccxt.RateLimitExceeded)):
        return Retryable(message, code=code, reason="rate_limit", retry_after=retry_after)
    if isinstance(exc, ccxt.AuthenticationError | ccxt.PermissionDenied | ccxt.AccountSuspended):
        return Fatal(message, code=code, reason="auth")
    if isinstance(exc, ccxt.InsufficientFunds):
        return Rejected(message, code=code, reason="margin")
    if isinstance(exc, ccxt.OrderNotFound):
        return Rejected(message, code=code, reason="rejected")
    if isinstance(exc, (ccxt.RequestTimeout, ccxt.ExchangeNotAvailable, ccxt.NetworkError)):
        return Retryable(message, code=code, reason="network", ambiguous=True)
    if isinstance(exc, ccxt.ExchangeError):
        return Rejected(message, code=code, reason="margin" if REJECT_REASONS.get(code or 0) == "margin" else "rejected")
    return Retryable(f"{type(exc).__name__}: {message}", code=code, reason="network", ambiguous=True)
