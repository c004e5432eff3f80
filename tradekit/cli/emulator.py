"""tk emulator: a local Bitget v2 REST emulator for manual runs and tests."""

import time
from typing import Annotated

import typer

from tradekit.cli.base import Session, guarded, new_app, run_app
from tradekit.cli.options import CommonOptions, common_options
from tradekit.exitstatus import ExitStatus

PROG = "tk emulator"
SUMMARY = "Run a local Bitget REST emulator (market data and a test account) on 127.0.0.1."
HELP = f"""{SUMMARY}

Serves what ccxt asks Bitget for: market data from the candles in HOME/data, and a
simulated account behind the private endpoints (orders, stop-loss/take-profit, positions,
fills; the same matching engine as paper mode), with signed requests checked. Faults can be
armed over HTTP (POST /_emulator/faults). Point tradekit at it with [exchange] url:

\b
    tk emulator --port 8765 &
    printf '[exchange]\\nurl = "http://127.0.0.1:8765"\\nrate_limit = false\\n' > my.toml
    tk data fetch BTCUSDT 1h --since 2026-01-01 --config my.toml --home elsewhere
"""

app = new_app(HELP)


@app.command(help=HELP)
@common_options
def emulator(
    common: CommonOptions,
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="0 picks a free one.")
    ] = 8765,
    host: Annotated[
        str, typer.Option("--host", help="Address to bind; keep 127.0.0.1 unless you must.")
    ] = "127.0.0.1",
) -> None:
    def body() -> ExitStatus:
        from tradekit.emulator.server import Emulator
        from tradekit.market.store import CandleStore

        session = Session.open(PROG, common)
        clock = session.clock

        def now_ms() -> int:
            return int(clock.now().timestamp() * 1000)

        emulated = Emulator(CandleStore(session.home.data), clock=now_ms)
        server = emulated.serve(host, port).start()
        typer.echo(
            f"Bitget emulator on {server.url} (market data: {session.home.data}); Ctrl-C stops"
        )
        try:
            while True:
                time.sleep(3600)
        finally:
            server.stop()

    guarded(PROG, common.verbosity, body)


def main(argv: list[str] | None = None, prog_name: str | None = None) -> None:
    run_app(app, argv, prog_name or PROG)
