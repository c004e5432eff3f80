"""tk-guard: Watch open positions: exits, stop-loss invariant, reconciliation, kill switch."""

from tradekit.cli.base import new_app, run_app, run_stream_stage
from tradekit.cli.options import CommonOptions, StreamOptions, common_options, stream_options
from tradekit.records import GuardEvent
from tradekit.runner import Stage, passthrough
from tradekit.stream import OnError

PROG = "tk-guard"
SUMMARY = "Watch open positions: exits, stop-loss invariant, reconciliation, kill switch."
HELP = f"""{SUMMARY}

Position management is not built yet. Until it is, tk-guard validates guard_event
records and passes them through to stdout and HOME/logs/guard.jsonl; it watches nothing.

Every record written is also appended to HOME/logs/guard.jsonl.
"""

app = new_app(HELP)


@app.command(help=HELP)
@common_options
@stream_options(OnError.FAIL)
def guard(common: CommonOptions, stream: StreamOptions) -> None:
    stage = Stage("guard", GuardEvent, passthrough, audit_trail="guard")
    run_stream_stage(PROG, common, stream, stage)


def main(argv: list[str] | None = None, prog_name: str | None = None) -> None:
    run_app(app, argv, prog_name or PROG)
