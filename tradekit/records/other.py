"""The other record kinds. Each says what it is in its `record` field."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

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


#: The longest post tk-parse-tg reads (Telegram's own limit is 4,096 characters).
MAX_POST_CHARS = 100_000


class TelegramMessage(Record):
    """A raw Telegram channel post, before parsing (input of tk-parse-tg)."""

    record: Literal["telegram_message"] = "telegram_message"
    channel: str = Field(min_length=1)
    message_id: int
    version: int = Field(default=1, ge=1, description="bumped when the post is edited")
    date: Time
    reply_to: int | None = Field(default=None, description="the message id this post replies to")
    image_url: str | None = None
    has_image: bool | None = Field(default=None, description="the post carries a photo")
    is_edit: bool = False
    #: what happened to the post: new, edited (a new version), or deleted from the channel
    event: Literal["new", "edit", "delete"] = "new"
    forwarded_from: str | None = Field(
        default=None, description="the channel it was forwarded from"
    )
    image_path: str | None = Field(default=None, description="the downloaded photo, under TK_HOME")
    image_sha256: str | None = Field(default=None, pattern="^[0-9a-f]{64}$")
    source: str | None = Field(default=None, description="web_preview or telegram")
    text: str = Field(default="", max_length=MAX_POST_CHARS)

    @model_validator(mode="before")
    @classmethod
    def _is_a_message(cls, data: Any) -> Any:
        if isinstance(data, dict):
            if "tradePlanVersion" in data:
                raise ValueError("a TradePlan v1 record, not a telegram_message")
            kind = data.get("record", "telegram_message")
            if kind != "telegram_message":
                raise ValueError(f"a {kind!r} record, not a telegram_message")
        return data

    @property
    def carries_image(self) -> bool:
        return bool(self.has_image) or self.image_url is not None or self.image_path is not None

    @property
    def is_empty(self) -> bool:
        """Nothing to read: no text and no photo (a delete event is not a post to read)."""
        return self.event != "delete" and not self.text.strip() and not self.carries_image


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
