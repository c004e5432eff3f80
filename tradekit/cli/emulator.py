"""tk emulator: a local Bitget v2 REST emulator for manual runs and tests."""

import time
from typing import Annotated

import typer

from tradekit.cli.base import Session, guarded, new_app, run_app
from tradekit.cli.options import CommonOptions, modeless_options
from tradekit.exitstatus import ExitStatus

PROG = "tk emulator"
SUMMARY = "Run a local Bitget REST emulator (market data and a test account) on 127.0.0.1."
HELP = f"""{SUMMARY}

Serves what ccxt asks Bitget for: market data from the candles in HOME/data, and a
simulated account behind the private endpoints (orders, stop-loss/take-profit, positions,
fills; the same matching engine as paper mode), with signed requests checked, and the
public websocket's ticker channel (on --ws-port) that tk-guard --watch listens to. Faults
can be armed over HTTP (POST /_emulator/faults, with the control token printed at start in
the X-Emulator-Token header). It prints its test credentials (BITGET_API_*) at start.
Point tradekit at it with [exchange] url and ws_url:

\b
    tk emulator --port 8765 &
    printf '[exchange]\\nurl = "http://127.0.0.1:8765"\\nrate_limit = false\\n' > my.toml
    printf 'ws_url = "ws://127.0.0.1:8766/v2/ws/public"\\n' >> my.toml
    tk data fetch BTCUSDT 1h --since 2026-01-01 --config my.toml --home elsewhere
    (after `tk init --home elsewhere`)
"""

app = new_app(HELP)


@app.command(help=HELP)
@modeless_options
def emulator(
    common: CommonOptions,
    port: Annotated[
        int, typer.Option("--port", min=0, max=65535, help="0 picks a free one.")
    ] = 8765,
    host: Annotated[
        str, typer.Option("--host", help="Address to bind; keep 127.0.0.1 unless you must.")
    ] = "127.0.0.1",
    ws_port: Annotated[
        int,
        typer.Option(
            "--ws-port",
            min=-1,
            max=65535,
            help="The public websocket (ticker channel) port; -1: the REST port + 1.",
        ),
    ] = -1,
) -> None:
    def body() -> ExitStatus:
        from tradekit.emulator.server import TEST_CREDENTIALS, Emulator
        from tradekit.httpserver import is_loopback
        from tradekit.market.store import CandleStore

        session = Session.open(PROG, common, home_use="optional")
        if not is_loopback(host):
            session.reporter.warning(
                f"listening on {host}: anyone who reaches this machine can trade its test "
                "account (and, with the control token, set its prices and faults)"
            )
        clock = session.clock

        def now_ms() -> int:
            return int(clock.now().timestamp() * 1000)

        emulated = Emulator(CandleStore(session.home.data), clock=now_ms)
        from tradekit.emulator.ws import WsServer

        server = emulated.serve(host, port).start()
        rest_port = int(server.url.rsplit(":", 1)[1])
        ws = WsServer(emulated, host, rest_port + 1 if ws_port < 0 else ws_port).start()
        [(key, (secret, passphrase))] = TEST_CREDENTIALS.items()
        typer.echo(
            f"Bitget emulator on {server.url} and {ws.url} (market data: "
            f"{session.home.data}); Ctrl-C stops\n"
            f"test credentials: BITGET_API_KEY={key} BITGET_API_SECRET={secret} "
            f"BITGET_API_PASSPHRASE={passphrase}\n"
            f"control token (header X-Emulator-Token of POST /_emulator/*): "
            f"{emulated.control_token}"
        )
        try:
            while True:
                time.sleep(3600)
        finally:
            ws.stop()
            server.stop()

    guarded(PROG, common.verbosity, body)


def main(argv: list[str] | None = None, prog_name: str | None = None) -> None:
    run_app(app, argv, prog_name or PROG)
