"""tk-risk: Check each plan against the risk rules and size it (adds the `risk` block)."""

from tradekit.cli.base import new_app, run_app, run_stream_stage
from tradekit.cli.options import CommonOptions, StreamOptions, common_options, stream_options
from tradekit.records import TradePlan
from tradekit.runner import Stage, passthrough
from tradekit.stream import OnError

PROG = "tk-risk"
SUMMARY = "Check each plan against the risk rules and size it (adds the `risk` block)."
HELP = f"""{SUMMARY}

The risk rules and sizing are not built yet. Until they are, tk-risk validates each
TradePlan v1 line and passes it through unchanged: it approves and blocks nothing.

Every record written is also appended to HOME/logs/decisions.jsonl.
"""

app = new_app(HELP)


@app.command(help=HELP)
@common_options
@stream_options(OnError.FAIL)
def risk(common: CommonOptions, stream: StreamOptions) -> None:
    stage = Stage("risk", TradePlan, passthrough, audit_trail="decisions")
    run_stream_stage(PROG, common, stream, stage)


def main(argv: list[str] | None = None, prog_name: str | None = None) -> None:
    run_app(app, argv, prog_name or PROG)
