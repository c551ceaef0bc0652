"""`journal replay DIR [--baseline FILE] [--config PATH]`: prove decisions reproduce."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from cli.apps import journal_app
from cli.replay import replay_journal
from journal.errors import CheckFailed

console = Console(highlight=False)


@journal_app.command("replay")
def replay_command(
    directory: Path = typer.Argument(..., help="Journal directory."),
    baseline: Optional[Path] = typer.Option(None, "--baseline", help="baseline.json to check signals/metrics against."),
    config: Optional[Path] = typer.Option(None, "--config", help="What-if: replay the inputs under other settings."),
    limit: int = typer.Option(20, "--limit", help="How many divergences to list."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Re-run the decider over the recorded inputs; exit 0 only when every decision reproduces."""
    if config is not None:
        from cli.whatif import run_whatif

        run_whatif(directory, config, as_json=as_json)
        return
    started = time.perf_counter()
    result = replay_journal(directory, limit=limit)
    elapsed = time.perf_counter() - started
    baseline_problems: list[str] = []
    if baseline is not None:
        from cli.baseline import check_journal_against_baseline

        baseline_problems = check_journal_against_baseline(directory, baseline)
    summary = {
        "records": result.records,
        "inputs": result.inputs,
        "decisions": result.decisions,
        "divergences": result.divergence_count,
        "lost_in_crash": result.lost_in_crash,
        "lost": result.lost[:limit],
        "first_divergences": [d.line() for d in result.divergences],
        "baseline_problems": baseline_problems,
        "events_per_s": round(result.records / elapsed) if elapsed > 0 else None,
        "ok": result.ok and not baseline_problems,
    }
    if as_json:
        print(json.dumps(summary))
    else:
        console.print(
            f"replayed {result.records} records ({result.inputs} inputs, {result.decisions} decisions) "
            f"in {elapsed:.2f}s ({summary['events_per_s']} events/s)"
        )
        if result.lost_in_crash:
            console.print(f"  {result.lost_in_crash} decision(s) of the input before a torn tail were lost in the "
                          f"crash (never durable, never sent); not a divergence: {', '.join(result.lost[:5])}")
        for d in result.divergences:
            console.print(f"  DIVERGES {d.line()}")
        for problem in baseline_problems:
            console.print(f"  BASELINE {problem}")
    if not result.ok:
        raise CheckFailed(f"{result.divergence_count} decision(s) did not reproduce; first: "
                          f"{result.divergences[0].line()}")
    if baseline_problems:
        raise CheckFailed(f"journal differs from baseline {baseline}: {baseline_problems[0]}")
    if not as_json:
        console.print("all decisions reproduce")
