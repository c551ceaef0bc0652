"""`bot mcp` spoken to by the MCP SDK's own client over stdio, on a real journal."""
import asyncio
import json
import sys
from pathlib import Path

import pytest
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from cli.control import drain_requests
from journal.events import (
    CandleClosed,
    EntryPlanned,
    EquityMarked,
    ErrorObserved,
    HaltRequested,
    KillSwitchTripped,
    ManualCloseRequested,
    OrderFilled,
    OrderSubmitted,
    PositionClosed,
    ProtectOnlyRequested,
    SessionStarted,
    SignalDetected,
    StopMoved,
)
from journal.writer import JournalWriter

BOT = str(Path(sys.executable).parent / "bot")
TOKEN = "s3cret-control-token"
H = 3_600_000
T0 = 1_700_000_000_000


def write_journal(path: Path) -> None:
    candle = dict(symbol="BTC/USDT", timeframe="1h", open=100, high=110, low=95, close=108, volume=1)
    events = [
        SessionStarted(ts=T0, run_id="r1", mode="paper", version="0.1.0", config_digest="d",
                       symbols=("BTC/USDT", "ETH/USDT")),
        CandleClosed(ts=T0, **candle),
        SignalDetected(ts=T0, symbol="BTC/USDT", side="long", close=108, channel_high=105, channel_low=90, atr=5),
        EntryPlanned(ts=T0, symbol="BTC/USDT", side="long", qty=1, ref_price=108, stop_price=102, atr=5,
                     risk_amount=6, notional=108, equity=10_000),
        OrderSubmitted(ts=T0, client_id="e1", symbol="BTC/USDT", side="buy", order_kind="market", qty=1,
                       purpose="entry"),
        OrderFilled(ts=T0 + H, client_id="e1", symbol="BTC/USDT", fill_id="f1", side="buy", qty=1, price=109,
                    purpose="entry"),
        StopMoved(ts=T0 + H, symbol="BTC/USDT", side="long", stop_price=103, reason="initial"),
        OrderFilled(ts=T0 + 3 * H, client_id="s1", symbol="BTC/USDT", fill_id="f2", side="sell", qty=1, price=103,
                    purpose="stop"),
        PositionClosed(ts=T0 + 3 * H, symbol="BTC/USDT", side="long", trade_id="t1", qty=1, entry_ts=T0 + H,
                       entry_price=109, exit_price=103, pnl=-6.1, fees=0.1, reason="stop"),
        EquityMarked(ts=T0 + 3 * H, equity=9_993.9),
        ErrorObserved(ts=T0 + 4 * H, reason="nonce"),
        KillSwitchTripped(ts=T0 + 4 * H, reason="error_burst", window_sec=300, max_errors=1),
        SignalDetected(ts=T0 + 5 * H, symbol="ETH/USDT", side="short", close=50, channel_high=60, channel_low=51,
                       atr=2),
        EntryPlanned(ts=T0 + 5 * H, symbol="ETH/USDT", side="short", qty=2, ref_price=50, stop_price=53, atr=2,
                     risk_amount=6, notional=100, equity=9_993.9),
        OrderFilled(ts=T0 + 6 * H, client_id="e2", symbol="ETH/USDT", fill_id="f3", side="sell", qty=2, price=50,
                    purpose="entry"),
        StopMoved(ts=T0 + 6 * H, symbol="ETH/USDT", side="short", stop_price=53, reason="initial"),
    ]
    writer = JournalWriter.open(path)
    try:
        writer.append(events)
    finally:
        writer.close()


async def session_calls(journal: Path, calls, env=None):
    params = StdioServerParameters(command=BOT, args=["mcp", "--journal", str(journal)], env=env or {})
    results = []
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            tools = await session.list_tools()
            results.append(sorted(t.name for t in tools.tools))
            for name, args in calls:
                results.append(await session.call_tool(name, args))
    return results


def payload(result):
    assert not result.is_error, result.content
    if result.structured_content is not None:
        content = result.structured_content
        return content.get("result", content) if set(content) == {"result"} else content
    return json.loads(result.content[0].text)


@pytest.fixture(scope="module")
def journal(tmp_path_factory):
    path = tmp_path_factory.mktemp("mcp") / "journal"
    write_journal(path)
    return path


def run(journal, calls, env=None):
    return asyncio.run(asyncio.wait_for(session_calls(journal, calls, env), timeout=60))


def test_inspection_tools_over_stdio(journal):
    tools, status, recent, trades, sql, audit, drop, two = run(journal, [
        ("status", {}),
        ("recent_events", {"limit": 2, "kind": "signal_detected"}),
        ("trades", {}),
        ("sql", {"query": "SELECT symbol, count(*) AS n FROM signals GROUP BY symbol ORDER BY symbol"}),
        ("kill_switch_audit", {}),
        ("sql", {"query": "DROP VIEW trades"}),
        ("sql", {"query": "SELECT 1; SELECT 2"}),
    ])
    leak = run(journal, [("sql", {"query": "SELECT content FROM read_text('/proc/self/environ')"})])[1]
    assert leak.is_error and "file system operations are disabled" in leak.content[0].text  # no secrets via SQL
    assert {"status", "recent_events", "trades", "sql", "kill_switch_audit", "manual_close", "halt", "resume",
            "protect_only"} <= set(tools)
    status = payload(status)
    assert status["mode"] == "paper"
    assert status["symbols"]["BTC/USDT"]["state"] == "flat"
    assert status["symbols"]["ETH/USDT"]["state"] == "short"
    assert status["symbols"]["ETH/USDT"]["stop"] == 53
    assert status["equity"] == pytest.approx(9_993.9)
    assert status["kill_switch_trips"] == 1 and status["last_heartbeat"] is not None
    recent = payload(recent)
    assert [e["symbol"] for e in recent] == ["BTC/USDT", "ETH/USDT"]
    trades = payload(trades)
    assert len(trades["trades"]) == 1 and trades["trades"][0]["exit_reason"] == "stop"
    assert trades["metrics"]["trades"] == 1 and trades["metrics"]["losses"] == 1
    assert payload(sql)["rows"] == [["BTC/USDT", 1], ["ETH/USDT", 1]]
    [trip] = payload(audit)
    assert trip["reason"] == "error_burst"
    # the SQL tool refuses anything but one SELECT
    assert drop.is_error and "read-only SELECT" in drop.content[0].text
    assert two.is_error


def test_controls_need_the_token_and_go_through_the_control_channel(journal):
    env = {"MCP_CONTROL_TOKEN": TOKEN}
    _, wrong, close, halt, protect = run(journal, [
        ("halt", {"token": "guess", "symbol": "BTC/USDT"}),
        ("manual_close", {"token": TOKEN, "symbol": "ETH/USDT"}),
        ("halt", {"token": TOKEN, "symbol": "BTC/USDT"}),
        ("protect_only", {"token": TOKEN}),
    ], env=env)
    assert wrong.is_error and "invalid control token" in wrong.content[0].text
    assert payload(close)["kind"] == "manual_close_requested"
    requests = drain_requests(journal)
    assert [type(r) for r in requests] == [ManualCloseRequested, HaltRequested, ProtectOnlyRequested]
    assert requests[0].symbol == "ETH/USDT" and requests[0].requested_by == "mcp"
    assert requests[1].symbol == "BTC/USDT"


def test_controls_are_disabled_without_a_configured_token(journal):
    _, result = run(journal, [("protect_only", {"token": ""})], env={"MCP_CONTROL_TOKEN": ""})
    assert result.is_error and "disabled" in result.content[0].text
    assert drain_requests(journal) == []


def test_bot_mcp_on_a_missing_journal_is_bad_input(tmp_path):
    import subprocess

    result = subprocess.run([BOT, "mcp", "--journal", str(tmp_path / "nope")], capture_output=True, text=True,
                            timeout=60, stdin=subprocess.DEVNULL)
    assert result.returncode == 2
    assert "journal directory not found" in result.stderr and "Traceback" not in result.stderr
