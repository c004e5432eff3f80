"""[news] in config.toml: the sources, the rules, the calendar and the failure policy."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from tradekit.section import Section
from tradekit.symbols import bitget_symbol


class SourceSettings(Section):
    #: a name of your own (items are cached and reported under it)
    name: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.-]+$")
    #: blockbeats: the seed's newsflash page; rss: an RSS or Atom feed; json_api: a JSON news
    #: API; jsonl: a local file of news_item records
    kind: Literal["blockbeats", "rss", "json_api", "jsonl"]
    #: where: an http(s) URL (blockbeats, rss, json_api) or a file path (jsonl)
    url: str = Field(min_length=1)
    #: blockbeats: the time zone its "HH:MM" times are written in
    time_zone: str = "Asia/Shanghai"
    #: json_api: the environment variable holding its token (never the token itself)
    token_env: str | None = None
    #: json_api: how the token is sent: as this query parameter, or as a Bearer header
    token_param: str | None = None
    #: json_api: the key of the item list in the answer, and each item's fields
    items_key: str = "results"
    id_field: str = "id"
    title_field: str = "title"
    url_field: str = "url"
    time_field: str = "published_at"
    timeout_seconds: float = Field(12.0, gt=0, le=120)
    enabled: bool = True

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return check_zone(value)

    @model_validator(mode="after")
    def _url_fits_kind(self) -> SourceSettings:
        if self.kind != "jsonl" and not self.url.startswith(("http://", "https://")):
            raise ValueError(f"url: a {self.kind} source needs an http(s) URL")
        return self


class CalendarWindow(Section):
    #: new entries are blocked from this many minutes before the event ...
    before_minutes: int = Field(ge=0, le=24 * 60)
    #: ... to this many minutes after it
    after_minutes: int = Field(ge=0, le=24 * 60)


class HighImportance(CalendarWindow):
    before_minutes: int = Field(30, ge=0, le=24 * 60)
    after_minutes: int = Field(60, ge=0, le=24 * 60)


class MediumImportance(CalendarWindow):
    before_minutes: int = Field(15, ge=0, le=24 * 60)
    after_minutes: int = Field(30, ge=0, le=24 * 60)


class LowImportance(CalendarWindow):
    before_minutes: int = Field(0, ge=0, le=24 * 60)
    after_minutes: int = Field(0, ge=0, le=24 * 60)


class CalendarSettings(Section):
    #: a CSV file: time_utc,event,importance[,country] (examples/calendar.csv), relative to
    #: TK_HOME unless absolute; none: no calendar
    file: str | None = None
    high: HighImportance = HighImportance()
    medium: MediumImportance = MediumImportance()
    low: LowImportance = LowImportance()


class NewsSettings(Section):
    #: off: tk-news-gate passes every plan through with an empty decision
    enabled: bool = True
    sources: list[SourceSettings] = Field(default_factory=list)
    #: which news concerns which symbol: a symbol -> words in a title (lowercase; "btc"
    #: matches the whole word only); a title with a macro word and a crypto word concerns
    #: every symbol listed here
    symbols: dict[str, list[str]] = Field(
        default_factory=lambda: {
            "BTCUSDT": ["btc", "bitcoin", "比特币"],
            "ETHUSDT": ["eth", "ether", "ethereum", "以太坊"],
        }
    )
    #: an item counts this long after it was published (minutes; the seed's 120)
    recency_minutes: int = Field(120, ge=1, le=7 * 24 * 60)
    #: "window": an item gates every cycle inside its recency window; "once": only the first
    #: real cycle with a plan (the seed's behaviour; dry-runs and plan-less lines never
    #: consume an item)
    consume: Literal["window", "once"] = "window"
    #: a bullish item (score >= bullish_score, no negative word) blocks shorts
    block_shorts_on_bullish: bool = True
    bullish_score: int = Field(1, ge=1)
    #: a bearish item (a negative word, and a score at most bearish_max_score: 3 means any
    #: item with a negative word, as the seed; 0 asks the negative to outweigh the rest)
    #: blocks longs
    block_longs_on_bearish: bool = True
    bearish_max_score: int = Field(3, ge=-3, le=3)
    #: "open": news that cannot be read lets plans through (the record says so); "closed":
    #: it blocks every new entry
    failure_policy: Literal["open", "closed"] = "open"
    #: the cache is too old to trust when no source was fetched this recently (minutes)
    max_cache_age_minutes: int = Field(30, ge=1)
    #: the time zone of the "HH:MM title" reasons
    display_time_zone: str = "UTC"
    calendar: CalendarSettings = CalendarSettings()

    @field_validator("sources")
    @classmethod
    def _unique_names(cls, value: list[SourceSettings]) -> list[SourceSettings]:
        names = [source.name for source in value]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise ValueError(f"source names must be unique: {', '.join(twice)} more than once")
        return value

    @field_validator("symbols")
    @classmethod
    def _lowercase(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for symbol, words in value.items():
            if not words or any(not word.strip() for word in words):
                raise ValueError(f"{symbol}: give at least one word, and no empty ones")
        return {
            bitget_symbol(symbol.strip()): [w.strip().lower() for w in words]
            for symbol, words in value.items()
        }

    @field_validator("display_time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return check_zone(value)


def check_zone(value: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r}") from None
    return value
