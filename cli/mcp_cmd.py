"""`bot mcp [--journal DIR]`: serve the MCP tools over stdio (see cli.mcp_server)."""
from __future__ import annotations

import json
import os
from pathlib import Path

import typer

from cli.apps import bot_app
from journal.errors import BadInput


def control_token(config: Path | None) -> str | None:
    """Env MCP_CONTROL_TOKEN, else the config file's `mcp_control_token` key."""
    token = os.environ.get("MCP_CONTROL_TOKEN")
    if token or config is None:
        return token or None
    try:
        data = json.loads(config.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BadInput(f"{config}: cannot read config: {type(exc).__name__}") from None
    value = data.get("mcp_control_token") if isinstance(data, dict) else None
    return str(value) if value else None


@bot_app.command("mcp")
def mcp(
    journal: Path = typer.Option(Path(os.environ.get("BOT_JOURNAL_DIR", "data/journal")), "--journal",
                                 help="Journal directory to inspect (and to send controls to)."),
    config: Path | None = typer.Option(None, "--config", help="Config JSON (for mcp_control_token)."),
) -> None:
    """MCP server over stdio: status, recent events, trades/metrics, SQL, kill-switch audit, safe controls."""
    from cli.mcp_server import build_server

    if not journal.is_dir():
        raise BadInput(f"{journal}: journal directory not found")
    build_server(journal, control_token(config)).run("stdio")
