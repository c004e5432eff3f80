"""tk-news-gate: veto plans on fresh news and calendar events (the `decision` block)."""

from tradekit.cli.base import new_app, run_app, run_stream_stage
from tradekit.cli.options import CommonOptions, StreamOptions, common_options, stream_options
from tradekit.records import TradePlan
from tradekit.runner import Stage, passthrough
from tradekit.stream import OnError

PROG = "tk-news-gate"
SUMMARY = "Veto plans on fresh news and economic-calendar events (adds the `decision` block)."
HELP = f"""{SUMMARY}

The news sources and rules are not built yet. Until they are, tk-news-gate validates
each TradePlan v1 line and passes it through unchanged: it blocks nothing.

Every record written is also appended to HOME/logs/decisions.jsonl.
"""

app = new_app(HELP)


@app.command(help=HELP)
@common_options
@stream_options(OnError.SKIP)
def news_gate(common: CommonOptions, stream: StreamOptions) -> None:
    stage = Stage("news-gate", TradePlan, passthrough, audit_trail="decisions")
    run_stream_stage(PROG, common, stream, stage)


def main(argv: list[str] | None = None, prog_name: str | None = None) -> None:
    run_app(app, argv, prog_name or PROG)
