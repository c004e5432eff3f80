"""tk-report: Summarise what a pipeline decided: plans, vetoes, risk and execution outcomes."""

import sys
from typing import Annotated, Any

import typer

from tradekit import jsonio
from tradekit.audit import is_entry
from tradekit.cli.base import Session, new_app, run_app, run_stream_stage
from tradekit.cli.options import CommonOptions, StreamOptions, common_options, stream_options
from tradekit.records import TradePlan
from tradekit.runner import Stage
from tradekit.stream import OnError, Parsed
from tradekit.summary import PipelineSummary

PROG = "tk-report"
SUMMARY = "Summarise what a pipeline decided: plans, vetoes, risk and execution outcomes."
HELP = f"""{SUMMARY}

Reads TradePlan v1 records (the output of any stage, typically the end of a pipe) and
prints how many had a plan, were blocked by news, approved or blocked by risk, and how
each was executed. It also reads the audit log, counting the entries of one stage
(--stage, default exec). The K-line decision page is not built yet.

\b
    tk-signal examples/plans.jsonl | tk-risk | tk-exec --paper | tk-report
    tk-report memory/logs/decisions.jsonl --stage risk
"""

app = new_app(HELP)


@app.command(help=HELP)
@common_options
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

    def count(parsed: Parsed[TradePlan]) -> dict[str, Any] | None:
        summary.add(parsed.record)
        return None

    def show(_session: Session, _tally: object) -> None:
        if json_output:
            sys.stdout.buffer.write(jsonio.dumps(summary.to_json_dict()) + b"\n")
        else:
            sys.stdout.write(summary.to_text())
        sys.stdout.flush()

    def select(raw: dict[str, Any]) -> dict[str, Any] | None:
        if not is_entry(raw):
            return raw
        return raw["record"] if raw["stage"] == stage_name else None

    stage = Stage("report", TradePlan, count, audit_trail=None, select=select, pure=True)
    run_stream_stage(PROG, common, stream, stage, finish=show)


def main(argv: list[str] | None = None, prog_name: str | None = None) -> None:
    run_app(app, argv, prog_name or PROG)
