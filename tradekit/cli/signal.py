"""tk-signal: Evaluate a strategy on market data and emit one TradePlan v1 per cycle."""

import sys
from pathlib import Path
from typing import Annotated

import typer

from tradekit import symbols
from tradekit.cli.base import Session, broken_pipe_exits, guarded, new_app, run_app
from tradekit.cli.options import CommonOptions, common_options
from tradekit.clock import parse_time
from tradekit.errors import UsageError
from tradekit.exitstatus import ExitStatus
from tradekit.strategies import REGISTRY
from tradekit.symbols import symbol_argument

PROG = "tk-signal"
SUMMARY = "Evaluate a strategy on market data and emit one TradePlan v1 per cycle."
HELP = f"""{SUMMARY}

Evaluates the last *closed* bar as of now (or --now / --at), from the candles in
HOME/data (`tk data import`) or a CSV given with --data. A plan that fires has `plan`
set; otherwise `plan` is null and `context.note` says why (bias_filtered, bias_none,
no_setup, insufficient_ohlcv, stale_ohlcv, ...). Indicator values are in `context`.

\b
    tk-signal v5                          the last closed 1h bar, now
    tk-signal v5 --at 2026-01-05T10:00Z   as of a past time
    tk-signal v5 --replay 2025-01-01 2025-02-01 | tk-report
    tk-signal dsl --spec examples/dsl-ema-adx.json   your own rules
    tk-signal --list                      strategies; `tk-signal v5 --help` its parameters

Parameters come from [strategies.NAME] in the config (the dsl's from --spec; a mistake
in either exits 78). Exit status 65 when the data is stale or too short for the
evaluated bar (the record still says so). Replays are not written to the audit log
(they decide nothing); live evaluations are.
"""

app = new_app(HELP)


def _time(value: str, option: str):
    try:
        return parse_time(value)
    except ValueError as exc:
        raise UsageError(f"{option}: {exc}") from None


@app.command(help=HELP)
@common_options
def signal(
    common: CommonOptions,
    strategy: Annotated[str | None, typer.Argument(help="Strategy name (see --list).")] = None,
    symbol: Annotated[str, typer.Option("--symbol", help=symbols.HELP)] = "BTCUSDT",
    data: Annotated[
        Path | None,
        typer.Option("--data", metavar="FILE", help="Candles CSV of the base timeframe."),
    ] = None,
    at: Annotated[
        str | None, typer.Option("--at", metavar="TIME", help="Evaluate as of this time.")
    ] = None,
    replay: Annotated[
        tuple[str, str] | None,
        typer.Option("--replay", metavar="FROM TO", help="One plan per closed bar in range."),
    ] = None,
    forming: Annotated[
        bool,
        typer.Option("--forming", help="Also use the forming bar (the seed's repainting)."),
    ] = False,
    exchange: Annotated[
        str | None,
        typer.Option(
            "--exchange",
            metavar="NAME",
            help="Fetch the missing candles from this exchange first (bitget; see [exchange]).",
        ),
    ] = None,
    spec: Annotated[
        Path | None,
        typer.Option("--spec", metavar="FILE", help="The rules of the dsl strategy (JSON)."),
    ] = None,
    list_strategies: Annotated[bool, typer.Option("--list", help="List strategies.")] = False,
    pretty: Annotated[bool, typer.Option("--pretty", help="Indent each record.")] = False,
) -> None:
    def body() -> ExitStatus:
        if list_strategies:
            for name, (_, summary) in REGISTRY.items():
                typer.echo(f"{name:<6} {summary}")
            return ExitStatus.OK
        if strategy is None:
            raise UsageError("which strategy? e.g. tk-signal v5 (tk-signal --list)")
        if at is not None and replay is not None:
            raise UsageError("--at and --replay cannot be used together")
        if exchange is not None and exchange != "bitget":
            raise UsageError(f"--exchange {exchange}: only bitget is supported")
        if exchange is not None and data is not None:
            raise UsageError("--exchange and --data cannot be used together")
        market = symbol_argument(symbol, "--symbol")
        return _evaluate(
            common, strategy, market, data, at, replay, forming, pretty, spec, exchange
        )

    guarded(PROG, common.verbosity, body)


def _evaluate(
    common, strategy, symbol, data, at, replay, forming, pretty, spec, exchange
) -> ExitStatus:
    from tradekit.market.store import CandleStore
    from tradekit.signals import prepare
    from tradekit.store import Store
    from tradekit.stream import JsonlWriter

    # the candles are in the home, unless --data names them: then no home is needed, and an
    # uninitialised one is left as it is (nothing journaled)
    home_use = "optional" if data is not None else "state"
    session = Session.open(PROG, common, home_use=home_use)
    config_source = str(common.config_file or session.home.config_file)
    if exchange is not None:
        _update_from_exchange(session, strategy, symbol, spec)
    window = None
    if replay is not None:
        window = (_time(replay[0], "--replay FROM"), _time(replay[1], "--replay TO"))
    prepared = prepare(
        strategy,
        table=session.config.strategies.get(strategy, {}),
        config_source=config_source,
        symbol=symbol,
        store=CandleStore(session.home.data),
        data_file=data,
        now=session.clock.now(),
        at=_time(at, "--at") if at else None,
        replay=window,
        forming=forming,
        spec_file=spec,
    )
    writer = JsonlWriter(sys.stdout.buffer, session.redactor, pretty=pretty)
    dry_run, replaying = common.requested_mode == "dry-run", window is not None
    if not session.home_ready:
        return _emit(session, prepared, writer, dry_run=dry_run, replay=replaying, audit=False)
    with Store(session.home.db_file, session.redactor) as store:
        run_id = store.start_run("signal", session.mode.mode, session.clock.now())
        status = _emit(session, prepared, writer, dry_run=dry_run, replay=replaying, audit=True)
        store.finish_run(
            run_id, session.clock.now(), read=0, written=writer.count, bad=0, status=int(status)
        )
    return status


def _update_from_exchange(session: Session, strategy: str, symbol: str, spec) -> None:
    """Fetch the strategy's base timeframe up to now: after the last stored bar, or, with
    nothing stored, 250 bars of its largest timeframe back (enough for an EMA200)."""
    from tradekit.cli.data import fetch_into
    from tradekit.market.candles import timeframe_ms
    from tradekit.market.store import CandleStore
    from tradekit.signals import spec_params, strategy_params
    from tradekit.strategies import load

    plugin = load(strategy)
    if spec is not None:
        params = spec_params(plugin, spec)
    else:
        source = str(session.home.config_file)
        params = strategy_params(plugin, session.config.strategies.get(strategy, {}), source)
    timeframes = plugin.timeframes(params)
    base = timeframes[0]
    now = int(session.clock.now().timestamp() * 1000)
    store = CandleStore(session.home.data)
    stored = store.load(symbol, base)
    if stored is not None and len(stored):
        start = int(stored.ts[-1]) + stored.step
    else:
        start = now - 250 * max(timeframe_ms(tf) for tf in timeframes)
    added = fetch_into(session, store, symbol, base, start, now)
    session.reporter.detail(f"fetched {added} {symbol} {base} bar(s) from the exchange")


def _emit(
    session: Session, prepared, writer, *, dry_run: bool, replay: bool, audit: bool
) -> ExitStatus:
    """Write the records (and journal them, with `audit`); the exit status of an evaluation:
    65 when the data was stale or too short for the evaluated bar. A replay is always 0."""
    from contextlib import nullcontext

    from tradekit.audit import AuditLog
    from tradekit.signals import records

    if replay:  # decides nothing: written, not journaled
        writer.write_many(records(prepared, dry_run=dry_run))
        return ExitStatus.OK
    note = None
    journal = AuditLog(session.home.log("decisions"), session.redactor) if audit else None
    with journal or nullcontext():
        for record in records(prepared, dry_run=dry_run):
            if journal is not None:
                journal.append(session.clock.now(), "signal", record, mode=session.mode.mode)
            writer.write(record)
            note = (record["plan"] or record)["context"]["note"]
    symbol, strategy = prepared.symbol, prepared.strategy.name
    if prepared.problem:
        session.reporter.error(prepared.problem)
        return ExitStatus.BAD_INPUT
    if note == "insufficient_ohlcv":
        session.reporter.error(f"too few {symbol} bars for {strategy}: see `tk data ls`")
        return ExitStatus.BAD_INPUT
    return ExitStatus.OK


def records_of(prepared, dry_run: bool):
    from tradekit.signals import records

    return records(prepared, dry_run=dry_run)


def _strategy_help(name: str) -> str:
    from tradekit.strategies import load

    strategy = load(name)
    if getattr(strategy, "help", None):
        return strategy.help
    lines = [f"\n{name}: {REGISTRY[name][1]}", f"Parameters ([strategies.{name}] in config.toml):"]
    for key, info in strategy.params_model.model_fields.items():
        lines.append(f"  {key} = {info.default!r}")
    notes = f"\n{strategy.notes}" if strategy.notes else ""
    return "\n".join(lines) + "\n" + notes


def main(argv: list[str] | None = None, prog_name: str | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] in REGISTRY and {"-h", "--help"} & set(args):
        with broken_pipe_exits():
            try:
                run_app(app, ["--help"], prog_name or PROG)
            except SystemExit:
                sys.stdout.write(_strategy_help(args[0]))
                raise
    run_app(app, argv, prog_name or PROG)
