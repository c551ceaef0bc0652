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
    try:
        _register()  # imports every command module: a Ctrl-C here is an abort like any other
        rc = typer.main.get_command(app).main(prog_name=prog, standalone_mode=False)
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
        message = _one_line(exc)
        if message:  # a bare `bot` shows its help (on stdout) and needs no error line
            print(f"{prog}: error: {message}", file=sys.stderr)
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
    """Click's message on one line, naming the command and where its help is ("" when it has none)."""
    message = " ".join(exc.format_message().split())
    ctx = getattr(exc, "ctx", None)
    return f"{message} (see '{ctx.command_path} --help')" if message and ctx is not None else message


def _interrupted_query(exc: BaseException) -> bool:
    """DuckDB turns SIGINT during a query into InterruptException (or a RuntimeError, or a failed
    transaction naming the interrupt, or an error of a Python callback "failed: KeyboardInterrupt"); a
    clean-up that then fails ("Current transaction is aborted") hides it as its context. All of them,
    anywhere in the chain, mean the user pressed Ctrl-C."""
    seen: set[int] = set()
    link: BaseException | None = exc
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        name = type(link).__name__
        if isinstance(link, KeyboardInterrupt) or name == "InterruptException" or "KeyboardInterrupt" in str(link):
            return True
        if "interrupt" in str(link).lower() and name in ("RuntimeError", "TransactionException"):
            return True
        link = link.__cause__ or link.__context__
    return False


def bot_main() -> None:
    _run(bot_app, "bot")


def journal_main() -> None:
    _run(journal_app, "journal")
