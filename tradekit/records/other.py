"""The other record kinds. Each says what it is in its `record` field."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from tradekit.records.base import Num, Record, Time
from tradekit.records.plan import Side


class FieldProblem(Record):
    field: str | None = Field(description="dotted path, e.g. plan.side; null for bad JSON")
    error: str


class ErrorRecord(Record):
    """A line that could not be read. Written to stderr (as text), to logs/errors.jsonl, and
    in-band on stdout with `--on-error emit`."""

    record: Literal["error"] = "error"
    stage: str
    source: str = Field(description="file name, or <stdin>")
    line: int = Field(ge=1)
    field: str | None = None
    error: str
    problems: list[FieldProblem] = Field(default_factory=list)
    input: str = Field(description="the offending text, cut short")


class GuardEvent(Record):
    """Something tk-guard did, or decided not to do, about a position."""

    record: Literal["guard_event"] = "guard_event"
    ts: Time
    kind: str = Field(description="hold, close, repair_sl, adopt, safe_mode, ...")
    symbol: str | None = None
    side: Side | None = None
    reason: str | None = None
    prices: dict[str, Num] | None = None
    order_ids: list[str] | None = None
    pnl: Num | None = None
    details: dict[str, Any] | None = None


class TelegramMessage(Record):
    """A raw Telegram channel post, before parsing (input of tk-parse-tg)."""

    record: Literal["telegram_message"] = "telegram_message"
    channel: str
    message_id: int
    version: int = Field(default=1, ge=1, description="bumped when the post is edited")
    date: Time
    text: str = ""
    image_url: str | None = None
    is_edit: bool = False
    #: what happened to the post: new, edited (a new version), or deleted from the channel
    event: Literal["new", "edit", "delete"] = "new"
    reply_to: int | None = Field(default=None, description="the message id this post replies to")
    forwarded_from: str | None = Field(
        default=None, description="the channel it was forwarded from"
    )
    image_path: str | None = Field(default=None, description="the downloaded photo, under TK_HOME")
    image_sha256: str | None = Field(default=None, pattern="^[0-9a-f]{64}$")
    source: str | None = Field(default=None, description="web_preview or telegram")


class NewsItem(Record):
    """One news headline or calendar event as seen by tk-news-gate."""

    record: Literal["news_item"] = "news_item"
    id: str
    source: str
    title: str
    url: str | None = None
    published_at: Time | None = None
    symbols: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    score: int = 0
