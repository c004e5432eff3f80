"""`tk-parse-tg --text`: one post per line, line breaks written as `\\n`.

Each line becomes a telegram_message of the given channel whose message id is the line
number, dated at the run's time; a line that is not UTF-8, or is too long, is a bad line
like any other (named, reported, exit 65), and the next is read.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ValidationError

from tradekit.records import FieldProblem, TelegramMessage
from tradekit.records.other import MAX_POST_CHARS
from tradekit.redact import Redactor
from tradekit.stream import InputLine, Invalid, Parsed, invalid_line, parse_line

EMPTY_POST = "an empty post (no text and no image)"


def read_record(line: InputLine, stage: str, redactor: Redactor) -> Parsed[Any] | Invalid | None:
    """A telegram_message line as every stage reads a record, and an empty post refused as
    a bad line (a source records it; there is nothing in it to parse)."""
    result = parse_line(line, TelegramMessage, stage, redactor)
    if isinstance(result, Parsed) and result.record.is_empty:
        problem = FieldProblem(field="text", error=EMPTY_POST)
        return invalid_line(line, stage, f"text: {EMPTY_POST}", redactor, [problem])
    return result


class TextLineReader:
    def __init__(self, stage: str, channel: str, date: datetime, redactor: Redactor):
        self.stage, self.channel, self.date, self.redactor = stage, channel, date, redactor

    def __call__(self, line: InputLine) -> Parsed[TelegramMessage] | Invalid:
        try:
            decoded = line.text.decode("utf-8")
        except UnicodeDecodeError as exc:
            return self._bad(
                line, f"not UTF-8: byte 0x{line.text[exc.start]:02x} at column {exc.start + 1}"
            )
        text = decoded.replace("\\n", "\n")
        if len(text) > MAX_POST_CHARS:
            return self._bad(line, f"a post of {len(text)} characters (at most {MAX_POST_CHARS})")
        try:
            message = TelegramMessage(
                channel=self.channel, message_id=line.number, date=self.date, text=text
            )
        except ValidationError as exc:
            return self._bad(
                line, exc.errors(include_url=False)[0]["msg"].removeprefix("Value error, ")
            )
        if message.is_empty:
            return self._bad(line, EMPTY_POST)
        return Parsed(line, None, message)

    def _bad(self, line: InputLine, error: str) -> Invalid:
        problem = FieldProblem(field="text", error=error)
        return invalid_line(line, self.stage, f"text: {error}", self.redactor, [problem])
