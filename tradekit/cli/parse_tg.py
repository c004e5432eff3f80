"""tk-parse-tg: Turn Telegram channel posts into TradePlan v1 records."""

from typing import Annotated, Any

import typer

from tradekit.cli.base import Session, new_app, run_app, run_stream_stage
from tradekit.cli.options import CommonOptions, StreamOptions, modeless_options, stream_options
from tradekit.records import TelegramMessage
from tradekit.runner import Stage
from tradekit.stream import InputLine, Invalid, OnError, Parsed
from tradekit.telegram.textlines import read_record

PROG = "tk-parse-tg"
SUMMARY = "Turn Telegram channel posts into TradePlan v1 records."
HELP = f"""{SUMMARY}

Reads telegram_message records (or, with --text, one post per line with line breaks
written as \\n; the message id is the line number) and writes one TradePlan v1 line for
each, with a `parse` block saying what the post was read as.

entry: a plan to open (symbol, side, entry, stopLoss, takeProfits, leverage, and the
evidence of each field). A signal that contradicts itself (a long whose stop is above
its entry) has parse.valid false, and tk-risk blocks it.

manage: reduce, close, move_sl_to_be or set_tp. With no symbol in the text: the symbol
of the post it replies to, else the channel's one open plan, else needs-manual.

needs_manual: plan null; parse.missingFields says what a person must supply (an image
with no text, an add without a size, a ticker that is no Bitget USDT-M contract, ...).

non_signal: plan null (reports, chatter, analysis, news, promotions).

The cycleId is tg:CHANNEL:MESSAGE_ID, so an edited post is never traded twice. What each
post produced is kept in HOME/tradekit.db for the replies after it.

The records come from `tk tg poll CHANNEL` (the web preview) or `tk tg listen` (a Telegram
account). Image posts are needs-manual for now: the vision model is not built yet.

Every record written is also appended to HOME/logs/decisions.jsonl.
"""

app = new_app(HELP)


@app.command(help=HELP)
@modeless_options
@stream_options(OnError.SKIP)
def parse_tg(
    common: CommonOptions,
    stream: StreamOptions,
    text: Annotated[
        bool,
        typer.Option(
            "--text", help="Input is plain text: one post per line, \\n for a line break."
        ),
    ] = False,
    channel: Annotated[
        str,
        typer.Option("--channel", metavar="NAME", help="The channel of --text posts."),
    ] = "text",
) -> None:
    run = ParseRun(channel if text else None)
    stage = Stage(
        "parse-tg",
        TelegramMessage,
        run.process,
        audit_trail="decisions",
        # what each post produced goes to the plan book as an idempotent upsert, so an
        # interrupted run re-run gives the same records: the stage may batch its lines
        pure=True,
        before_delivery=run.flush,
        reader=run.read_text if text else run.read_record,
    )
    run_stream_stage(PROG, common, stream, stage, start=run.start)


class ParseRun:
    def __init__(self, text_channel: str | None):
        self.text_channel = text_channel
        self.parser: Any = None
        self.reader: Any = None
        self.redactor: Any = None

    def start(self, session: Session, store: Any) -> None:
        from tradekit.exchange.contracts import usdt_perpetuals
        from tradekit.telegram.book import PlanBook
        from tradekit.telegram.stage import PostParser
        from tradekit.telegram.textlines import TextLineReader

        self.redactor = session.redactor
        self.parser = PostParser(PlanBook(store), usdt_perpetuals())
        if self.text_channel is not None:
            self.reader = TextLineReader(
                "parse-tg", self.text_channel, session.clock.now(), session.redactor
            )

    def flush(self) -> None:
        self.parser.book.flush()

    def read_text(self, line: InputLine) -> Parsed[TelegramMessage] | Invalid:
        return self.reader(line)  # type: ignore[no-any-return]

    def read_record(self, line: InputLine) -> Parsed[TelegramMessage] | Invalid | None:
        return read_record(line, "parse-tg", self.redactor)

    def process(self, parsed: Parsed[TelegramMessage]) -> dict[str, Any]:
        from tradekit.telegram.plans import Post

        message = parsed.record
        post = Post(
            channel=message.channel,
            message_id=message.message_id,
            version=message.version,
            text=message.text,
            reply_to=message.reply_to,
            has_image=message.carries_image,
        )
        return self.parser.handle(post)  # type: ignore[no-any-return]


def main(argv: list[str] | None = None, prog_name: str | None = None) -> None:
    run_app(app, argv, prog_name or PROG)
