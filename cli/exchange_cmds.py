"""`bot exchange-sim` (the local Binance USDⓈ-M server) and `bot download` (candles via ccxt)."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from cli.apps import bot_app
from cli.run_options import parse_symbols
from journal.errors import BadInput

# ccxt (about a second to import) loads only inside the commands that need it.


@bot_app.command("exchange-sim", help="Serve a local Binance USDⓈ-M compatible API on replayed candles "
                                      "(for tests, demos and the soak; point BINANCE_BASE_URL at it).")
def exchange_sim(
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8765, "--port", min=0, max=65535, help="0 picks a free port (printed on start)"),
    data: Path = typer.Option(..., "--data", help="DIR/<timeframe>/<BASE>_<QUOTE>.parquet|csv"),
    speed: float = typer.Option(1.0, "--speed", help="market clock: N x real time (0 = only POST /sim/step)"),
    start: Optional[str] = typer.Option(None, "--start", help="ISO time of the first forming bar "
                                                              "(default: the data's bar index 500)"),
    faults: Optional[str] = typer.Option(None, "--faults", help="e.g. http_5xx=0.05,rate_limit=0.02,seed=7"),
    key: str = typer.Option("sim-key", "--key", envvar="BINANCE_KEY", show_default=False,
                            help="API key the server accepts (env BINANCE_KEY; default sim-key)"),
    secret: str = typer.Option("sim-secret", "--secret", envvar="BINANCE_SECRET", show_default=False,
                               help="HMAC secret (env BINANCE_SECRET; default sim-secret)"),
    timeframe: str = typer.Option("1h", "--timeframe"),
) -> None:
    from exchange.sim.boot import build_server

    server = build_server(data, host=host, port=port, speed=speed, start=start, faults=faults, key=key,
                          secret=secret, timeframe=timeframe)
    state = server.state()
    print(f"exchange-sim listening on {server.url} (market time {state['market_time']}, "
          f"symbols {', '.join(server.venue.series)})", flush=True)
    try:
        server.httpd.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.httpd.server_close()


@bot_app.command("download", context_settings={"allow_extra_args": True},
                 help="Download closed candles through ccxt into OUT/<tf>/<BASE>_<QUOTE>.parquet (resumable).")
def download(
    ctx: typer.Context,
    symbols: Optional[str] = typer.Option(None, "--symbols", help="e.g. --symbols BTC/USDT ETH/USDT"),
    timeframe: str = typer.Option("1h", "--timeframe"),
    days: int = typer.Option(..., "--days", help="how far back from the newest closed bar"),
    out: Path = typer.Option(..., "--out", help="output folder (gets <timeframe>/<BASE>_<QUOTE>.parquet)"),
    base_url: Optional[str] = typer.Option(None, "--base-url", envvar="BINANCE_BASE_URL",
                                           help="API host (env BINANCE_BASE_URL), e.g. an exchange-sim"),
    testnet: bool = typer.Option(False, "--testnet", help="Binance's testnet when no base URL is given"),
) -> None:
    symbol_list = parse_symbols(symbols, ctx.args)
    from exchange.binance import BinanceExchange
    from exchange.binance_download import download_symbol, timeframe_ms

    timeframe_ms(timeframe)
    if days <= 0:
        raise BadInput(f"--days {days}: must be positive")
    exchange = BinanceExchange(base_url=base_url, testnet=testnet, timeout_ms=15_000)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, transient=not sys.stderr.isatty(), disable=not sys.stderr.isatty()) as progress:
        for symbol in symbol_list:
            task = progress.add_task(symbol, total=None)
            result = download_symbol(exchange.venue, symbol, timeframe, days, out,
                                     on_progress=lambda done, total, t=task: progress.update(t, completed=done,
                                                                                             total=total))
            progress.update(task, completed=result.added, total=max(result.added, 1))
            print(f"{symbol}: +{result.added} bars -> {result.path} ({result.total} total, "
                  f"{result.first_ts}..{result.last_ts})", flush=True)
