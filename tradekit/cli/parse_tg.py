"""tk-parse-tg: Turn Telegram channel posts into TradePlan v1 records."""

from tradekit.cli.base import new_app, run_app, run_stream_stage
from tradekit.cli.options import CommonOptions, StreamOptions, modeless_options, stream_options
from tradekit.records import TelegramMessage
from tradekit.runner import Stage, passthrough
from tradekit.stream import OnError

PROG = "tk-parse-tg"
SUMMARY = "Turn Telegram channel posts into TradePlan v1 records."
HELP = f"""{SUMMARY}

The rule and vision-model parsers are not built yet. Until they are, tk-parse-tg
validates raw telegram_message records and passes them through unchanged.

Every record written is also appended to HOME/logs/decisions.jsonl.
"""

app = new_app(HELP)


@app.command(help=HELP)
@modeless_options
@stream_options(OnError.SKIP)
def parse_tg(common: CommonOptions, stream: StreamOptions) -> None:
    stage = Stage("parse-tg", TelegramMessage, passthrough, audit_trail="decisions", pure=True)
    run_stream_stage(PROG, common, stream, stage, home_use="optional")


def main(argv: list[str] | None = None, prog_name: str | None = None) -> None:
    run_app(app, argv, prog_name or PROG)
