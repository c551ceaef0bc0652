"""Entry points of the `bot` and `journal` console scripts.

Importing a command module registers its commands on the shared Typer apps.
Known error classes become exit codes with one line on stderr (never a traceback):
BadInput -> 2, CheckFailed -> 1.
"""
from __future__ import annotations

import importlib
import sys
from pathlib import Path

import typer

from cli.apps import bot_app, journal_app
from journal.errors import BadInput, CheckFailed

try:  # typer >= 0.26 vendors click as typer._click; older releases use click itself
    from typer._click.exceptions import ClickException  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - depends on the installed typer
    from click import ClickException

CLI_DIR = Path(__file__).resolve().parent


def command_modules() -> list[str]:
    """Every `cli/*_cmd.py` / `cli/*_cmds.py` registers commands when imported (sorted: stable --help)."""
    names = {p.stem for pattern in ("*_cmd.py", "*_cmds.py") for p in CLI_DIR.glob(pattern)}
    return [f"cli.{name}" for name in sorted(names)]


def _register() -> None:
    for name in command_modules():
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
    except (typer.Abort, KeyboardInterrupt):
        print(f"{prog}: aborted", file=sys.stderr)
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except ClickException as exc:  # usage errors (exit 2): one line, like every other bad input
        print(f"{prog}: error: {_one_line(exc)}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except OSError as exc:  # a path that cannot be created, read or written (a file where a dir is, /proc, EROFS)
        where = exc.filename if exc.filename is not None else ""
        print(f"{prog}: error: {where}{': ' if where else ''}{exc.strerror or exc}", file=sys.stderr)
        sys.exit(2)
    except Exception as exc:
        if not _interrupted_query(exc):
            raise
        print(f"{prog}: aborted", file=sys.stderr)  # Ctrl-C inside a DuckDB query surfaces as its own error
        sys.exit(130)
    if rc == 130:  # typer turns Ctrl-C inside a command into exit code 130, silently
        print(f"{prog}: aborted", file=sys.stderr)
    sys.exit(rc if isinstance(rc, int) else 0)


def _one_line(exc: ClickException) -> str:
    """Click's message on one line, naming the command and where its help is."""
    message = " ".join(exc.format_message().split())
    ctx = getattr(exc, "ctx", None)
    return f"{message} (see '{ctx.command_path} --help')" if ctx is not None else message


def _interrupted_query(exc: BaseException) -> bool:
    """DuckDB turns SIGINT during a query into InterruptException (or a RuntimeError, or a failed
    transaction naming the interrupt); all mean the user pressed Ctrl-C."""
    name = type(exc).__name__
    return name == "InterruptException" or ("interrupt" in str(exc).lower()
                                             and name in ("RuntimeError", "TransactionException"))


def bot_main() -> None:
    _run(bot_app, "bot")


def journal_main() -> None:
    _run(journal_app, "journal")
