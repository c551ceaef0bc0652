"""The two Typer applications. Command modules register on them (see cli/main.py)."""
import typer

bot_app = typer.Typer(
    name="bot",
    help="Event-sourced Donchian/ATR bot for Binance USDⓈ-M futures.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
journal_app = typer.Typer(
    name="journal",
    help="Inspect, verify, replay and query an event journal.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
