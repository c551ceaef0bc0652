"""Entry points of the `bot` and `journal` console scripts.

Importing a command module registers its commands on the shared Typer apps.
Known error classes become exit codes with one line on stderr (never a traceback):
BadInput -> 2, CheckFailed -> 1.
"""
from __future__ import annotations

import importlib
import sys

import click
import typer

from cli.apps import bot_app, journal_app
from journal.errors import BadInput, CheckFailed

COMMAND_MODULES = (
    "cli.journal_cmds",
    "cli.sql_cmds",
    "cli.health_cmd",
    "cli.mcp_cmd",
    "cli.report_cmds",
    "cli.backtest_cmd",
    "cli.live_cmd",
    "cli.exchange_cmds",
    "cli.replay_cmd",
    "cli.core_cmds",
)


def _register() -> None:
    for name in COMMAND_MODULES:
        importlib.import_module(name)


def _run(app: typer.Typer, prog: str) -> None:
    _register()
    command = typer.main.get_command(app)
    try:
        rc = command.main(prog_name=prog, standalone_mode=False)
    except BadInput as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        sys.exit(2)
    except CheckFailed as exc:
        print(f"{prog}: check failed: {exc}", file=sys.stderr)
        sys.exit(1)
    except click.exceptions.Abort:
        print(f"{prog}: aborted", file=sys.stderr)
        sys.exit(130)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    sys.exit(rc if isinstance(rc, int) else 0)


def bot_main() -> None:
    _run(bot_app, "bot")


def journal_main() -> None:
    _run(journal_app, "journal")
