"""The clock: the system time, or a fixed `--now` for replays and golden tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

#: Epoch ms below this (1973-03-03) are almost surely seconds typed by mistake.
EPOCH_MS_MIN = 10**11


def parse_time(text: str) -> datetime:
    """Parse an ISO-8601 time (a trailing Z or an offset; no offset means UTC) or epoch ms.

    Always returns an aware UTC datetime. Raises ValueError with a readable message.
    """
    value = text.strip()
    if value.isdigit():
        millis = int(value)
        if millis < EPOCH_MS_MIN:
            raise ValueError(
                f"{text!r} is too small for epoch milliseconds (seconds? use {value}000)"
            )
        try:
            return datetime.fromtimestamp(millis / 1000, tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise ValueError(f"{text!r} is out of range for epoch milliseconds") from None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"{text!r} is not a time: use ISO 8601 like 2026-11-20T10:00:00Z, or epoch milliseconds"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def format_time(moment: datetime) -> str:
    """ISO 8601 in UTC with a Z, to the second unless there are sub-seconds.

    A naive datetime is taken as UTC (as the JSON writer does), never as local time.
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    text = moment.astimezone(UTC).isoformat()
    return text.replace("+00:00", "Z")


@dataclass(frozen=True)
class Clock:
    """`Clock()` reads the system time; `Clock(fixed)` always answers `fixed`."""

    fixed: datetime | None = None

    def now(self) -> datetime:
        return self.fixed if self.fixed is not None else datetime.now(UTC)

    @property
    def is_fixed(self) -> bool:
        return self.fixed is not None


def option_time_ms(value: str | None, option: str) -> int | None:
    """A command-line time option (ISO 8601 or epoch ms) as epoch ms; a bad one is a usage
    error naming the option."""
    from tradekit.errors import UsageError

    if value is None:
        return None
    try:
        return int(parse_time(value).timestamp() * 1000)
    except ValueError as exc:
        raise UsageError(f"{option}: {exc}") from None
