"""tk-signal: Evaluate a strategy on market data and emit one TradePlan v1 per cycle."""

import re
from functools import partial
from pathlib import Path
from typing import NoReturn

from tradekit.cli.base import guarded, new_app, run_app, run_stream_stage
from tradekit.cli.options import CommonOptions, StreamOptions, common_options, stream_options
from tradekit.errors import UsageError
from tradekit.records import TradePlan
from tradekit.runner import Stage, passthrough
from tradekit.stream import OnError

PROG = "tk-signal"
SUMMARY = "Evaluate a strategy on market data and emit one TradePlan v1 per cycle."
HELP = f"""{SUMMARY}

Strategy evaluation (v1/v2/v3/v5, the DSL, --replay) is not built yet. Until it is,
tk-signal re-emits TradePlan v1 records read from FILE(s) or stdin, validated, so that
recorded or hand-written plans can start a pipe:

\b
    tk-signal examples/plans.jsonl | tk-news-gate | tk-risk | tk-exec --dry-run

Every record written is also appended to HOME/logs/decisions.jsonl.
"""

STRATEGY_NAME = re.compile(r"v\d+|dsl|[a-z][a-z0-9_-]{0,15}")

app = new_app(HELP)


def _not_built(name: str) -> NoReturn:
    raise UsageError(
        f"{name!r} looks like a strategy, but strategy evaluation is not built yet: "
        "tk-signal only replays TradePlan files for now (tk-signal examples/plans.jsonl)"
    )


@app.command(help=HELP)
@common_options
@stream_options(OnError.SKIP)
def signal(common: CommonOptions, stream: StreamOptions) -> None:
    for name in stream.inputs:
        if STRATEGY_NAME.fullmatch(name) and not Path(name).exists():
            guarded(PROG, common.verbosity, partial(_not_built, name))
    stage = Stage("signal", TradePlan, passthrough, audit_trail="decisions")
    run_stream_stage(PROG, common, stream, stage)


def main(argv: list[str] | None = None, prog_name: str | None = None) -> None:
    run_app(app, argv, prog_name or PROG)
