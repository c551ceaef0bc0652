"""`bot state-diagram` (the lifecycle table as Mermaid, kept in the README) and
`bot config-check` (validate config.json + env and show the non-secret settings)."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Optional

import typer

from cli.apps import bot_app
from cli.config import load_config
from journal.errors import BadInput, CheckFailed
from machine.lifecycle import mermaid

BEGIN, END = "<!-- state-diagram:begin -->", "<!-- state-diagram:end -->"
_BLOCK = re.compile(re.escape(BEGIN) + r"\n.*?" + re.escape(END), re.S)


def diagram_block() -> str:
    return f"{BEGIN}\n```mermaid\n{mermaid()}```\n{END}"


def _readme(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BadInput(f"{path}: cannot read ({exc.__class__.__name__})") from None


@bot_app.command("state-diagram")
def state_diagram(
    check: Optional[Path] = typer.Option(None, "--check", help="Exit 1 when this README's diagram is stale."),
    write: Optional[Path] = typer.Option(None, "--write", help="Rewrite the diagram between the markers."),
) -> None:
    """Print the per-symbol lifecycle (flat, entering, long, short, pyramided, exiting, halted) as Mermaid."""
    if check is None and write is None:
        typer.echo(mermaid(), nl=False)
        return
    path = check or write
    assert path is not None
    text = _readme(path)
    if not _BLOCK.search(text):
        raise BadInput(f"{path}: no {BEGIN} ... {END} block")
    if check is not None:
        if _BLOCK.search(text).group(0) != diagram_block():  # type: ignore[union-attr]
            raise CheckFailed(f"{path}: state diagram differs from the table; run `bot state-diagram --write {path}`")
        typer.echo(f"{path}: state diagram up to date")
        return
    path.write_text(_BLOCK.sub(lambda _: diagram_block(), text), encoding="utf-8")
    typer.echo(f"{path}: state diagram written")


@bot_app.command("config-check")
def config_check(
    config: Optional[Path] = typer.Option(None, "--config", help="config.json (default: $BOT_CONFIG_JSON or ./config.json)"),
    as_json: bool = typer.Option(False, "--json", help="Print the settings as JSON."),
) -> None:
    """Validate config.json + environment; print the effective non-secret settings and their digest."""
    loaded = load_config(config)
    settings = loaded.public_settings()
    if as_json:
        typer.echo(json.dumps({"digest": loaded.digest(), "settings": settings}, sort_keys=True))
        return
    for key in sorted(settings):
        typer.echo(f"{key} = {json.dumps(settings[key])}")
    typer.echo(f"digest = {loaded.digest()}")
