"""Helpers for the safety tests: a Slack stand-in on 127.0.0.1, `bot live --exchange binance` as a
subprocess against in-process sims, and waiting on the journal (imported explicitly by test_safety_*)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from journal.reader import read_events

BOT = str(Path(sys.executable).with_name("bot"))
KEY, SECRET = "safety-test-key-9f2e1d", "safety-test-secret-5a7c33b0"
WEBHOOK_PATH = "/services/T0SAFETY/B0SAFETY/hook-secret-4d9a71"
SECRETS = (KEY, SECRET, WEBHOOK_PATH)


class SlackStandIn:
    """Records every POSTed JSON body, answers 200 like an Incoming Webhook."""

    def __init__(self) -> None:
        self.messages: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                outer.messages.append(json.loads(self.rfile.read(length) or b"{}"))
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}{WEBHOOK_PATH}"

    def texts(self) -> list[str]:
        return [m.get("text", "") for m in self.messages]

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def live_env(url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("BINANCE_", "BOT_CONFIG", "SLACK_", "KILL_SWITCH", "SAFE_", "DAILY_", "AUTO_",
                                "EMERGENCY_"))}
    env.update({"BINANCE_BASE_URL": url, "BINANCE_KEY": KEY, "BINANCE_SECRET": SECRET, "POLL_SEC": "0.05",
                "LOOKBACK": "60", "TESTNET": "true", **extra})
    return env


def start_bot(journal: Path, env: dict[str, str], log_path: Path, cwd: Path, *extra: str) -> subprocess.Popen:
    log = open(log_path, "a")
    return subprocess.Popen([BOT, "live", "--exchange", "binance", "--journal", str(journal), "--json", *extra],
                            env=env, stdout=subprocess.PIPE, stderr=log, text=True, cwd=cwd)


def events_of(journal: Path) -> list:
    try:
        return list(read_events(journal))
    except Exception:  # not created yet / being written
        return []


def wait_for(predicate, timeout: float = 90.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def stop_bot(proc: subprocess.Popen, timeout: float = 60.0) -> tuple[int, str]:
    import signal

    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        out, _ = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
    return proc.returncode, out


def log_records(log_path: Path) -> list[dict]:
    """The JSON log lines the bot wrote (non-JSON lines are skipped)."""
    records = []
    for line in log_path.read_text().splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            continue
    return records


def secret_hits(roots, texts=()) -> list[str]:
    """Every file under `roots` (and every captured output in `texts`) that contains a test secret."""
    needles = [s.encode() for s in SECRETS]
    hits = []
    for root in roots:
        for path in Path(root).rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                hits += [f"{path}: {n.decode()}" for n in needles if n in data]
    for i, text in enumerate(texts):
        hits += [f"output {i}: {s}" for s in SECRETS if s in text]
    return hits


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
