"""The HTTP front of the sim: a ThreadingHTTPServer speaking Binance's REST shapes.

`SimServer(...).start()` serves on a background thread (tests use port 0 and read
`.url`); `bot exchange-sim` runs `serve_forever()` in the foreground.
"""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from exchange.sim.clock import MarketClock, WallClock
from exchange.sim.data import Series
from exchange.sim.faults import ORDER_FAULTS, REQUEST_FAULTS, FaultInjector, FaultSpec
from exchange.sim.routes import ORDER_ACTIONS, ORDER_PLACEMENT, ROUTES, UNFAULTED
from exchange.sim.signing import ApiError, Credentials
from exchange.sim.venue import Venue

FAULT_ANSWERS = {
    "rate_limit": ApiError(429, -1003, "Too many requests; current limit is 2400 requests per minute."),
    "ban": ApiError(418, -1003, "Way too many requests; IP banned for a while."),
    "nonce": ApiError(400, -1021, "Timestamp for this request is outside of the recvWindow."),
    "auth": ApiError(401, -2015, "Invalid API-key, IP, or permissions for action."),
}


class SimServer:
    def __init__(self, series: dict[str, Series], *, bar_ms: int, start_ms: int, host: str = "127.0.0.1",
                 port: int = 0, speed: float = 1.0, faults: FaultSpec | None = None, key: str = "sim-key",
                 secret: str = "sim-secret", wallet: float = 10_000.0, fee_rate: float = 0.0005,
                 retry_after_s: int = 1) -> None:
        self.clock = MarketClock(start_ms, bar_ms, speed)
        self.venue = Venue(series, self.clock, wallet=wallet, fee_rate=fee_rate)
        self.faults = FaultInjector(faults or FaultSpec())
        self.wall = WallClock(self.faults.spec.clock_skew_ms)
        self.credentials = Credentials(key, secret)
        self.retry_after_s = retry_after_s
        self._banned_until = 0.0
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer((host, port), _handler_for(self))
        self.httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"SimServer(url={self.url!r})"

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "SimServer":
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="exchange-sim", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def set_faults(self, spec: FaultSpec) -> None:
        """A new spec (and RNG), its clock skew, and no ban in force."""
        self.faults.configure(spec)
        self.wall.skew_ms = spec.clock_skew_ms
        self._banned_until = 0.0

    def step(self, bars: int = 1) -> dict:
        with self.lock:
            self.clock.step(bars)
            self.venue.sync()
            return self.state()

    def state(self) -> dict:
        return {"market_time": self.clock.now_ms(), "forming_bar": self.venue.forming,
                "server_time": self.wall.now_ms(), "faults_injected": dict(self.faults.injected),
                "orders": len(self.venue.orders), "algo_orders": len(self.venue.algos),
                "trades": len(self.venue.ledger.trades), "wallet": self.venue.ledger.wallet,
                "duplicate_placements": self.venue.duplicate_placements}

    def answer(self, method: str, path: str, query: str, body: str, api_key: str | None) -> tuple[int, object, dict, str | None]:
        """(status, json body, headers, after) where after is None or a fault to act out after processing."""
        if path.startswith("/sim/"):
            return self._control(method, path, dict(parse_qsl(query)))
        route = ROUTES.get((method, path))
        if route is None:
            return 404, {"code": -5000, "msg": f"Path {path}, Method {method} is invalid"}, {}, None
        signed, handler = route
        if path not in UNFAULTED:
            if time.monotonic() < self._banned_until:  # a ban lasts its Retry-After: hammering does not help
                error = FAULT_ANSWERS["ban"]
                return error.status, {"code": error.code, "msg": error.msg}, self._retry_headers(error), None
            kinds = REQUEST_FAULTS if signed else ("http_5xx", "rate_limit", "ban")
            fault = self.faults.roll(kinds)
            if fault == "ban":
                self._banned_until = time.monotonic() + self.retry_after_s
            if fault == "http_5xx":
                return 503, "Service Unavailable", {}, None
            if fault:
                error = FAULT_ANSWERS[fault]
                return error.status, {"code": error.code, "msg": error.msg}, self._retry_headers(error), None
        params = dict(parse_qsl(query + ("&" if query and body else "") + body, keep_blank_values=True))
        if signed:
            params = self.credentials.verify(api_key, query, body, self.wall.now_ms())
        kinds = ORDER_FAULTS if (method, path) in ORDER_PLACEMENT else ORDER_FAULTS[:2]
        after = self.faults.roll(kinds) if (method, path) in ORDER_ACTIONS else None
        if after == "partial_fill":
            params["_partial"] = "1"
        with self.lock:
            self.venue.sync()
            result = handler(self.venue, params, self.wall.now_ms())
        return 200, result, {}, after if after != "partial_fill" else None

    def _retry_headers(self, error: ApiError) -> dict:
        return {"Retry-After": str(self.retry_after_s)} if error.status in (418, 429) else {}

    def _control(self, method: str, path: str, params: dict) -> tuple[int, object, dict, None]:
        if method == "POST" and path == "/sim/step":
            return 200, self.step(int(params.get("bars", "1"))), {}, None
        if method == "GET" and path == "/sim/state":
            with self.lock:
                self.venue.sync()
                return 200, self.state(), {}, None
        if method == "POST" and path == "/sim/faults":
            self.set_faults(FaultSpec.parse(params.get("spec", "")))
            return 200, self.state(), {}, None
        return 404, {"code": -5000, "msg": f"unknown sim control {method} {path}"}, {}, None


def _handler_for(sim: SimServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        disable_nagle_algorithm = True
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # quiet: requests carry signatures
            return

        def _serve(self, method: str) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else ""
            try:
                status, payload, headers, after = sim.answer(method, parts.path, parts.query, body,
                                                             self.headers.get("X-MBX-APIKEY"))
            except ApiError as error:
                status, payload, headers, after = error.status, {"code": error.code, "msg": error.msg}, {}, None
            except Exception as exc:  # noqa: BLE001 - answer like Binance's unknown error, keep serving
                status, payload, headers, after = 500, {"code": -1000, "msg": f"sim: {type(exc).__name__}"}, {}, None
            if after == "timeout_after_accept":
                time.sleep(sim.faults.spec.hold_ms / 1000.0)
            if after in ("timeout_after_accept", "drop_response"):
                self.close_connection = True
                return
            data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain" if isinstance(payload, str) else "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def do_DELETE(self) -> None:
            self._serve("DELETE")

        def do_PUT(self) -> None:
            self._serve("PUT")

    return Handler
