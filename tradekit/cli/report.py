"""tk-report: what a pipeline decided, the trades' PnL, and the K-line decision page."""

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from tradekit import jsonio
from tradekit.audit import is_entry
from tradekit.cli.base import Session, guarded, new_app, run_app, run_stream_stage
from tradekit.cli.options import CommonOptions, StreamOptions, modeless_options, stream_options
from tradekit.exitstatus import ExitStatus
from tradekit.records import TradePlan
from tradekit.runner import Stage
from tradekit.stream import OnError, Parsed
from tradekit.summary import PipelineSummary

PROG = "tk-report"
SUMMARY = (
    "Summarise what a pipeline decided and the trades' PnL; "
    "`tk-report html` draws it on a K-line page."
)
HELP = f"""{SUMMARY}

Reads TradePlan v1 records (the output of any stage, typically the end of a pipe) and
prints how many had a plan, were blocked by news, approved or blocked by risk, and how
each was executed. It also reads the audit log, counting the entries of one stage
(--stage, default exec), and the guard's events (TK_HOME/logs/guard.jsonl): the trades
they closed, realised PnL, win rate and fees.

`tk-report html` writes the K-line decision page instead (`tk-report html --help`).

\b
    tk-signal examples/plans.jsonl | tk-risk | tk-exec --paper | tk-report
    tk-report memory/logs/decisions.jsonl --stage risk
    tk-report memory/logs/decisions.jsonl memory/logs/guard.jsonl
"""

HTML_SUMMARY = "Write the K-line decision page: one self-contained HTML file."
HTML_HELP = f"""{HTML_SUMMARY}

INPUT is an audit log (TK_HOME/logs/decisions.jsonl, guard.jsonl), a file or pipe of
records, or a backtest run folder (TK_HOME/backtests/ID/); none reads the home's
decisions.jsonl and guard.jsonl. The candles come from TK_HOME/data (the lowest stored
timeframe, resampled up to 1d for the timeframe switch).

On the chart: every decision at its bar (opened, closed, dry-run, blocked by news or risk,
manage actions, needs-manual, no plan), grouped per bar with a count; a click shows the
record's whole chain and its audit lines as a jq command. Trades are bands with their
PnL, the open position's stop and targets price lines; equity and drawdown below.
Tables of decisions and trades, with filters and paging.

The page holds its chart library (TradingView Lightweight Charts, vendored) and its data:
it opens from disk with no network and no server. Default --out: TK_HOME/report/report.html.

Exit status: 0, or 65 when the page had to leave something out (a malformed line, records
with no candles for their symbol, an empty input): the page is still written and says what
is missing at its top, and each problem is named on stderr.

\b
    tk-report html                                   # the home's audit, as of now
    tk-report html memory/logs/decisions.jsonl --symbol BTCUSDT --from 2026-01-20
    tk-signal v5 --replay 2026-01-20 2026-02-20 | tk-report html - --out v5.html
"""

app = new_app(HELP)


@app.command(help=HELP)
@modeless_options
@stream_options(OnError.SKIP)
def report(
    common: CommonOptions,
    stream: StreamOptions,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the summary as one JSON object.")
    ] = False,
    stage_name: Annotated[
        str,
        typer.Option(
            "--stage", metavar="STAGE", help="From audit-log input, count this stage's entries."
        ),
    ] = "exec",
) -> None:
    summary = PipelineSummary()

    from tradekit.report.trades import trades_from_guard

    guard_events: list[dict[str, Any]] = []

    def count(parsed: Parsed[TradePlan]) -> dict[str, Any] | None:
        summary.add(parsed.record)
        return None

    def show(_session: Session, _tally: object) -> None:
        for trade in trades_from_guard(guard_events):
            summary.trades.add(trade)
        if json_output:
            sys.stdout.buffer.write(jsonio.dumps(summary.to_json_dict()) + b"\n")
        else:
            sys.stdout.write(summary.to_text())
        sys.stdout.flush()

    def select(raw: dict[str, Any]) -> dict[str, Any] | None:
        if raw.get("record") == "guard_event":
            guard_events.append(raw)
            return None
        if not is_entry(raw):
            return raw
        return raw["record"] if raw["stage"] == stage_name else None

    stage = Stage("report", TradePlan, count, audit_trail=None, select=select, pure=True)
    run_stream_stage(PROG, common, stream, stage, finish=show, home_use="optional")


html_app = new_app(HTML_HELP)


@html_app.command(help=HTML_HELP)
@modeless_options
def html(
    common: CommonOptions,
    inputs: Annotated[list[str] | None, typer.Argument(metavar="INPUT", show_default=False)] = None,
    symbol: Annotated[
        str | None, typer.Option("--symbol", help="The symbol to chart (default: the most used).")
    ] = None,
    since: Annotated[str | None, typer.Option("--from", help="First bar time shown.")] = None,
    until: Annotated[str | None, typer.Option("--to", help="Shown up to this time.")] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="The page to write (default HOME/report/report.html)."),
    ] = None,
) -> None:
    def body() -> ExitStatus:
        from tradekit.clock import format_time, option_time_ms
        from tradekit.report.inputs import load
        from tradekit.report.page import Window, build, render

        window = Window(symbol, option_time_ms(since, "--from"), option_time_ms(until, "--to"))
        session = Session.open(HTML_PROG, common)
        home = session.home
        paths = inputs or [
            str(path) for path in (home.log("decisions"), home.log("guard")) if path.exists()
        ]
        loaded = load(paths or [str(home.log("decisions"))], sys.stdin.buffer)
        page = build(loaded, home.data, window, format_time(session.clock.now()))
        target = out or home.report / "report.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(render(page))
        for problem in page.problems:
            session.reporter.error(problem)
        marked = sum(1 for d in page.decisions if d["t"] is not None)
        session.reporter.note(
            f"wrote {target}: {len(page.decisions)} decisions ({marked} timed), "
            f"{len(page.trades)} trades, {page.symbol or 'no symbol'}"
        )
        return ExitStatus.BAD_INPUT if page.problems else ExitStatus.OK

    guarded(HTML_PROG, common.verbosity, body)


HTML_PROG = "tk-report html"


def main(argv: list[str] | None = None, prog_name: str | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] == "html":
        run_app(html_app, args[1:], f"{prog_name or PROG} html")
    run_app(app, args, prog_name or PROG)
