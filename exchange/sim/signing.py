"""What Binance verifies on a SIGNED request: API key, HMAC-SHA256 signature over the
exact raw bytes, and `timestamp` within `recvWindow` of the server's clock."""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from urllib.parse import parse_qsl


class ApiError(Exception):
    """An answer in Binance's error shape: HTTP status + {"code": N, "msg": ...}."""

    def __init__(self, status: int, code: int, msg: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status} {code} {msg}")
        self.status = status
        self.code = code
        self.msg = msg
        self.headers = headers or {}


def _split_signature(raw: str) -> tuple[str, str | None]:
    head, sep, signature = raw.rpartition("&signature=")
    if not sep:
        return raw, None
    return head, signature


@dataclass(frozen=True)
class Credentials:
    key: str
    secret: str

    def __repr__(self) -> str:  # secrets never in reprs
        return "Credentials(key=***, secret=***)"

    def verify(self, api_key: str | None, query: str, body: str, server_now_ms: int) -> dict[str, str]:
        """Check a signed request; answer its parameters or raise ApiError like Binance."""
        if not api_key or not hmac.compare_digest(api_key, self.key):
            raise ApiError(401, -2015, "Invalid API-key, IP, or permissions for action.")
        payload, signature = _split_signature(body) if "signature=" in body else _split_signature(query)
        if "signature=" in body and query:
            payload = query + payload  # Binance signs query string + body, concatenated
        if signature is None:
            raise ApiError(400, -1102, "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.")
        expected = hmac.new(self.secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature.lower()):
            raise ApiError(400, -1022, "Signature for this request is not valid.")
        params = dict(parse_qsl(payload, keep_blank_values=True))
        check_timestamp(params, server_now_ms)
        return params


def check_timestamp(params: dict[str, str], server_now_ms: int) -> None:
    try:
        timestamp = int(params["timestamp"])
        recv_window = int(params.get("recvWindow", "5000"))
    except (KeyError, ValueError):
        raise ApiError(400, -1102, "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.") from None
    if recv_window > 60_000:
        raise ApiError(400, -1131, "recvWindow must be less than 60000")
    if timestamp > server_now_ms + 1000 or server_now_ms - timestamp > recv_window:
        raise ApiError(400, -1021, "Timestamp for this request is outside of the recvWindow.")
