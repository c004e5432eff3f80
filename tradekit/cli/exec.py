"""tk-exec: Execute approved plans idempotently (adds the `execution` block)."""

from tradekit.cli.base import new_app, run_app, run_stream_stage
from tradekit.cli.options import CommonOptions, StreamOptions, common_options, stream_options
from tradekit.records import TradePlan
from tradekit.runner import Stage, passthrough
from tradekit.stream import OnError

PROG = "tk-exec"
SUMMARY = "Execute approved plans idempotently (adds the `execution` block)."
HELP = f"""{SUMMARY}

Order execution is not built yet. Until it is, tk-exec validates each TradePlan v1
line and passes it through unchanged: it sends no order in any mode.

Every record written is also appended to HOME/logs/decisions.jsonl.
"""

app = new_app(HELP)


@app.command(help=HELP)
@common_options
@stream_options(OnError.FAIL)
def exec(common: CommonOptions, stream: StreamOptions) -> None:
    stage = Stage("exec", TradePlan, passthrough, audit_trail="decisions")
    run_stream_stage(PROG, common, stream, stage)


def main(argv: list[str] | None = None, prog_name: str | None = None) -> None:
    run_app(app, argv, prog_name or PROG)
