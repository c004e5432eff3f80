"""tk backtest: Run a strategy over history through the live pipeline, into a run folder."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from tradekit.cli.base import guarded, new_app, run_app
from tradekit.cli.options import CommonOptions, modeless_options
from tradekit.errors import UsageError
from tradekit.exitstatus import ExitStatus

PROG = "tk backtest"
SUMMARY = "Run a strategy over history through the live pipeline, into a run folder."
HELP = f"""{SUMMARY}

At each bar's close from --from to --to, does what cron does then: the bar's tk-signal
record through tk-news-gate, tk-risk and tk-exec on a paper account, then a tk-guard
pass — the same code, in one process, on a simulated clock. Bars where nothing can
happen (no plan, no position, no resting order) are skipped. Fills are the paper
exchange's: a market order at the last price plus [paper] slippage, stops and
take-profits on each bar's high and low, the market's maker/taker fees, liquidation at
the maintenance-margin price. Funding, which the paper exchange does not charge, is
charged at [backtest] funding_rate every funding_interval_hours (0.01 % / 8 h).

\b
    tk backtest v5 --from 2025-01-01 --to 2025-03-01
    tk backtest dsl --spec examples/dsl-ema-adx.json --from 2025-01-01 --to 2025-02-01
    tk backtest v5 --config examples/backtest-v5.toml --from 2024-01-01 --to 2026-01-01 --json

Candles come from HOME/data (`tk data import`); the config from --config or
HOME/config.toml ([strategies.NAME], [risk], [execution], [guard], [paper],
[backtest]). The run
folder HOME/backtests/<run id>/ holds decisions.jsonl (the TradePlan v1 records of the
bars with a plan, as tk-exec wrote them), guard.jsonl, trades.jsonl, equity.jsonl (per
bar close), summary.json, run.json (request, config, parameters, data checksums,
version) and home/ (the simulated TK_HOME: ledger, paper account, guard book). It is
written whole or not at all. --json prints the summary; otherwise one line per figure.

Exit status: 0; 2 for a bad option; 65 for a window without data or with a gap in the
candles; 78 for a mistake in the config or the spec.
"""

app = new_app(HELP)


@app.command(help=HELP)
@modeless_options
def backtest(
    common: CommonOptions,
    strategy: Annotated[
        str | None, typer.Argument(help="Strategy name (tk-signal --list).")
    ] = None,
    start: Annotated[
        str | None, typer.Option("--from", metavar="TIME", help="First bar close to trade.")
    ] = None,
    end: Annotated[
        str | None, typer.Option("--to", metavar="TIME", help="Last bar close to trade.")
    ] = None,
    symbol: Annotated[str, typer.Option("--symbol", help="Market symbol.")] = "BTCUSDT",
    spec: Annotated[
        Path | None,
        typer.Option("--spec", metavar="FILE", help="The rules of the dsl strategy (JSON)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print summary.json.")] = False,
) -> None:
    def body() -> ExitStatus:
        request = _request(strategy, start, end, symbol, spec)
        return _run(common, request, as_json)

    guarded(PROG, common.verbosity, body)


def _request(strategy, start, end, symbol, spec):
    from tradekit.backtest.run import Request
    from tradekit.clock import parse_time
    from tradekit.strategies import REGISTRY

    if strategy is None:
        raise UsageError("which strategy? e.g. tk backtest v5 --from ... --to ...")
    if strategy not in REGISTRY:
        raise UsageError(f"no strategy {strategy!r} (one of: {', '.join(REGISTRY)})")
    times = []
    for option, value in (("--from", start), ("--to", end)):
        if value is None:
            raise UsageError(f"{option} TIME is required")
        try:
            times.append(parse_time(value))
        except ValueError as exc:
            raise UsageError(f"{option}: {exc}") from None
    if times[1] <= times[0]:
        raise UsageError("--to must be after --from")
    return Request(strategy, symbol, times[0], times[1], spec)


def _run(common: CommonOptions, request, as_json: bool) -> ExitStatus:
    from tradekit import jsonio
    from tradekit.backtest.run import run_backtest
    from tradekit.cli.base import uninitialised_home
    from tradekit.config import load_config
    from tradekit.home import Home
    from tradekit.redact import Redactor
    from tradekit.reporter import Reporter

    home = Home(common.home)
    if not home.is_initialised():
        raise uninitialised_home(home)
    config_file = common.config_file or home.config_file
    config = load_config(config_file, required=common.config_file is not None)
    config_text = config_file.read_bytes() if config_file.exists() else b""
    reporter = Reporter(sys.stderr, PROG, verbosity=common.verbosity, redactor=Redactor())
    outcome = run_backtest(home, config, config_text, request, reporter)
    if as_json:
        sys.stdout.buffer.write(jsonio.dumps(outcome.summary, pretty=True) + b"\n")
    else:
        _print_summary(outcome)
    return ExitStatus.OK


def _print_summary(outcome) -> None:
    keys = (
        "bars", "barsStepped", "trades", "winRate", "profitFactor", "pnl", "fees",
        "totalReturnPct", "cagrPct", "sharpe", "sortino", "calmar", "maxDrawdownPct",
        "maxDrawdown", "exposurePct", "marketChangePct",
    )  # fmt: skip
    for key in keys:
        typer.echo(f"{key:<16} {outcome.summary.get(key)}")
    typer.echo(f"run folder       {outcome.folder}")


def main(argv: list[str] | None = None, prog_name: str | None = None) -> None:
    run_app(app, argv, prog_name or PROG)
