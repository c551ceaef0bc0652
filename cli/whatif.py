"""`journal replay DIR --config PATH`: the same recorded candles under other settings.

Exchange answers in a journal belong to the decisions that were made; under other
settings those answers would have been different. So the what-if replays the
recorded *candles* through the same loop with a fresh paper exchange (a backtest
into a throwaway journal) and sets its summary beside the recorded one. The exit code
says whether any decision diverges (exact replay of the journal under the new params).
"""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

from cli.bootstrap import RunSpec, run_backtest
from cli.replay import params_from_session, replay_journal
from cli.run_options import load_run_config
from cli.run_summary import RunSummary
from journal.errors import BadInput, CheckFailed
from journal.events import CandleClosed, SessionStarted
from journal.reader import read_events

COMPARED = ("bars", "signals", "trades", "pnl", "win_rate", "max_drawdown", "final_equity")


def recorded_run(directory: Path) -> tuple[SessionStarted, list[CandleClosed], dict]:
    """The first session, every recorded candle and the recorded summary."""
    session: SessionStarted | None = None
    candles: list[CandleClosed] = []
    summary: RunSummary | None = None
    for event in read_events(directory):
        if isinstance(event, SessionStarted) and session is None:
            session = event
            summary = RunSummary(initial_equity=params_from_session(event).initial_equity)
        if isinstance(event, CandleClosed):
            candles.append(event)
        if summary is not None:
            summary.observe(event)
    if session is None or summary is None:
        raise BadInput(f"{directory}: journal has no session_started record to replay against")
    return session, candles, summary.as_dict()


def run_whatif(directory: Path, config_path: Path, as_json: bool = False) -> None:
    session, candles, recorded = recorded_run(directory)
    run_config = load_run_config(config_path, session.timeframe, use_env=False)
    replayed = replay_journal(directory, params=run_config.params, limit=1)
    with tempfile.TemporaryDirectory(prefix="whatif-") as tmp:
        spec = RunSpec(mode="backtest", journal_dir=Path(tmp) / "journal", params=run_config.params,
                       symbols=session.symbols, timeframe=session.timeframe, config_digest=run_config.digest,
                       settings=run_config.settings)
        whatif = run_backtest(spec, candles).summary.as_dict()
    first = replayed.divergences[0].line() if replayed.divergences else None
    if as_json:
        print(json.dumps({"recorded": recorded, "whatif": whatif, "divergences": replayed.divergence_count,
                          "first_divergence": first}))
    else:
        table = Table(title=f"what-if {config_path} on {directory}")
        for column in ("", "recorded", "what-if"):
            table.add_column(column, justify="right")
        for key in COMPARED:
            table.add_row(key, str(recorded.get(key)), str(whatif.get(key)))
        Console().print(table)
        if first:
            Console(highlight=False).print(f"first divergence: {first}")
    if replayed.divergence_count:
        raise CheckFailed(f"{replayed.divergence_count} decision(s) diverge under {config_path}")
