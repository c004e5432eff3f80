"""tk data: import, list and export the candles tk-signal reads (TK_HOME/data)."""

import re
import sys
from pathlib import Path
from typing import Annotated

import typer

from tradekit import jsonio, symbols
from tradekit.cli.base import Session, guarded, new_app, run_app
from tradekit.cli.options import CommonOptions, modeless_options
from tradekit.clock import format_time, option_time_ms
from tradekit.errors import BadInputError, UsageError
from tradekit.exitstatus import ExitStatus
from tradekit.symbols import symbol_argument

PROG = "tk data"
SUMMARY = "Import, list and export the candles that tk-signal reads (TK_HOME/data)."
HELP = f"""{SUMMARY}

`tk data fetch BTCUSDT 1h --since 2025-01-01` downloads closed bars from Bitget
(or from [exchange] url) page by page; rerun without --since to continue.
Candles are checked on the way in: rows out of order, duplicates, bars off the
timeframe grid, NaN, zero or negative prices are refused with the file and line;
gaps are stored but reported, and `tk data ls` shows them.

A symbol is the Bitget id of a USDT-M perpetual (BTCUSDT, 1000BONKUSDT); btcusdt and
ccxt's BTC/USDT:USDT are read as BTCUSDT, and anything else is refused (exit 2).
"""

app = new_app(HELP)
_FILE_NAME = re.compile(r"^(?P<symbol>[A-Za-z0-9]+)-(?P<tf>\d+[mhdw])\b")


def _store(session: Session):
    from tradekit.market.store import CandleStore

    return CandleStore(session.home.data)


IMPORT_HELP = """Add a CSV file of candles (- reads stdin).

The header names a time column (ts, timestamp, time, date, datetime, open_time) and open,
high, low, close and volume (or o, h, l, c, v), in any order; other columns are ignored.
Times: epoch seconds, milliseconds or microseconds (told apart by size; a `ts` column is
milliseconds, as `tk data export` writes), or ISO 8601 (UTC unless it says otherwise).
What was detected is reported. The symbol and timeframe come from the file name
(BTCUSDT-1h-....csv) unless given; without a timeframe from either, it is the bars' step.
"""


@app.command("import", help=IMPORT_HELP)
@modeless_options
def import_(
    common: CommonOptions,
    file: Annotated[
        str, typer.Argument(metavar="FILE", help="CSV file, e.g. BTCUSDT-1h-binance.csv; - stdin")
    ],
    symbol: Annotated[
        str | None,
        typer.Option(
            "--symbol", help=f"{symbols.HELP} Default: from the file name (BTCUSDT-1h-...)."
        ),
    ] = None,
    timeframe: Annotated[
        str | None, typer.Option("--timeframe", help="Default: from the file name, else the data.")
    ] = None,
) -> None:
    def body() -> ExitStatus:
        from tradekit.market.candles import read_candles

        stdin = file == "-"
        named = None if stdin else _FILE_NAME.match(Path(file).name)
        tf = timeframe or (named and named.group("tf")) or None
        if symbol is None and not named:
            raise UsageError(
                f"cannot tell the symbol from {'stdin' if stdin else repr(Path(file).name)}: "
                "pass --symbol"
            )
        if symbol is not None:
            sym = symbol_argument(symbol, "--symbol")
        else:  # the file name's, e.g. BTCUSDT-1h-binance.csv
            sym = symbol_argument(named.group("symbol"), Path(file).name)  # type: ignore[union-attr]
        session = Session.open(PROG, common)
        if stdin:
            data, source = sys.stdin.buffer.read(), "<stdin>"
        else:
            try:
                data, source = Path(file).read_bytes(), file
            except OSError as exc:
                raise UsageError(f"cannot read {file}: {exc.strerror}") from None
        candles, layout = read_candles(data, source, sym, tf)
        if not len(candles):
            raise BadInputError(f"{source}: no candles in it (only a header)")
        tf = candles.timeframe
        session.reporter.note(f"{source}: {layout.describe()}")
        added, total = _store(session).merge(candles)
        stored = _store(session).load(sym, tf)
        from tradekit.market.candles import check

        problems = check(stored.rows, stored.step)
        first, last = int(stored.ts[0]), int(stored.ts[-1])
        typer.echo(
            f"{sym} {tf}: {len(candles)} rows read, {added} new, {total} stored "
            f"({_when(first)} .. {_when(last)}), {len(problems.gaps)} gap(s), "
            f"{problems.missing_bars} missing bar(s)"
        )
        for gap in problems.gaps[:5]:
            session.reporter.warning(f"gap after {_when(gap.after_ts)}: {gap.missing} bar(s)")
        return ExitStatus.OK

    guarded(PROG, common.verbosity, body)


@app.command("ls", help="List stored series: range, rows, gaps.")
@modeless_options
def list_(
    common: CommonOptions,
    json_output: Annotated[bool, typer.Option("--json", help="One JSON line per series.")] = False,
) -> None:
    def body() -> ExitStatus:
        from tradekit.cli.tables import Column, Table, show
        from tradekit.market.candles import check

        session = Session.open(PROG, common, home_use="optional")
        store = _store(session)
        table = Table((
            Column("symbol"), Column("timeframe"), Column("rows", numeric=True), Column("first"),
            Column("last"), Column("gaps", numeric=True), Column("missing bars", numeric=True),
        ))  # fmt: skip
        for sym, tf in store.series():
            candles = store.load(sym, tf)
            problems = check(candles.rows, candles.step)
            info = {
                "symbol": sym,
                "timeframe": tf,
                "rows": len(candles),
                "first": _when(int(candles.ts[0])) if len(candles) else None,
                "last": _when(int(candles.ts[-1])) if len(candles) else None,
                "gaps": len(problems.gaps),
                "missingBars": problems.missing_bars,
            }
            if json_output:
                sys.stdout.buffer.write(jsonio.dumps(info) + b"\n")
            else:
                table.add(
                    sym, tf, info["rows"], info["first"], info["last"], info["gaps"],
                    info["missingBars"],
                )  # fmt: skip
        if not json_output:
            if table.rows:
                show(table)
            else:
                session.reporter.note("no candles stored (tk data import FILE, tk data fetch)")
        return ExitStatus.OK

    guarded(PROG, common.verbosity, body)


@app.command("export", help="Write a stored series as CSV on stdout.")
@modeless_options
def export(
    common: CommonOptions,
    symbol: Annotated[str, typer.Argument(help=symbols.HELP)],
    timeframe: Annotated[str, typer.Argument(help="e.g. 1h; resampled if not stored")],
    since: Annotated[str | None, typer.Option("--since", help="First bar open time.")] = None,
    until: Annotated[str | None, typer.Option("--until", help="Stop before this time.")] = None,
) -> None:
    def body() -> ExitStatus:
        sym = symbol_argument(symbol, "SYMBOL")
        session = Session.open(PROG, common, home_use="optional")
        candles = _store(session).load_or_resample(sym, timeframe)
        candles = candles.between(
            option_time_ms(since, "--since"), option_time_ms(until, "--until")
        )
        out = sys.stdout
        out.write("ts,open,high,low,close,volume\n")
        for row in candles.rows.tolist():
            out.write(f"{row[0]},{row[1]!r},{row[2]!r},{row[3]!r},{row[4]!r},{row[5]!r}\n")
        return ExitStatus.OK

    guarded(PROG, common.verbosity, body)


@app.command(
    "fetch", help="Download closed candles from Bitget (or [exchange] url) into HOME/data."
)
@modeless_options
def fetch(
    common: CommonOptions,
    symbol: Annotated[str, typer.Argument(help=symbols.HELP)],
    timeframe: Annotated[str, typer.Argument(help="e.g. 1h")],
    since: Annotated[
        str | None,
        typer.Option("--since", help="First bar; default: after the last stored bar."),
    ] = None,
    until: Annotated[str | None, typer.Option("--until", help="Default: now.")] = None,
) -> None:
    def body() -> ExitStatus:
        sym = symbol_argument(symbol, "SYMBOL")
        session = Session.open(PROG, common)
        store = _store(session)
        now = int(session.clock.now().timestamp() * 1000)
        start = option_time_ms(since, "--since")
        if start is None:
            stored = store.load(sym, timeframe)
            if stored is None or len(stored) == 0:
                raise UsageError(f"nothing stored for {sym} {timeframe}: give --since")
            start = int(stored.ts[-1]) + stored.step
        end = min(option_time_ms(until, "--until") or now, now)
        added = fetch_into(session, store, sym, timeframe, start, end)
        stored = store.load(sym, timeframe)
        total = 0 if stored is None else len(stored)
        typer.echo(f"{sym} {timeframe}: {added} new bar(s), {total} stored")
        return ExitStatus.OK

    guarded(PROG, common.verbosity, body)


def fetch_into(
    session: Session,
    store,
    symbol: str,
    timeframe: str,
    start: int,
    end: int,
) -> int:
    """Fetch [start, end) into the store page by page, with a progress bar on a terminal."""
    from tradekit.exchange.bitget import client, fetch_candles, settings_of
    from tradekit.market.candles import Candles

    settings = session.config.exchange
    exchange = client(settings_of(settings))
    added = 0
    progress = None
    if sys.stderr.isatty() and session.reporter.verbosity >= 0:
        from rich.progress import Progress

        progress = Progress(transient=True)
        task = progress.add_task(f"{symbol} {timeframe}", total=max(end - start, 1))
        progress.start()

    def on_page(rows, cursor: int) -> None:
        nonlocal added
        if len(rows):
            added += store.merge(Candles(symbol, timeframe, rows))[0]
        if progress is not None:
            progress.update(task, completed=min(cursor, end) - start)

    try:
        fetch_candles(exchange, symbol, timeframe, since_ms=start, until_ms=end, on_page=on_page)
    finally:
        if progress is not None:
            progress.stop()
    return added


def _when(ms: int) -> str:
    from datetime import UTC, datetime

    return format_time(datetime.fromtimestamp(ms / 1000, tz=UTC))


def main(argv: list[str] | None = None, prog_name: str | None = None) -> None:
    run_app(app, argv, prog_name or PROG)
