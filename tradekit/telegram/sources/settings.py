"""[telegram] in config.toml: where and how often channels are followed."""

from __future__ import annotations

from pydantic import Field, field_validator

from tradekit.section import Section


class TelegramSettings(Section):
    #: the web preview's base URL; the channel name is appended (a mirror or a test server)
    preview_url: str = "https://t.me/s/"
    #: --follow / tk tg listen: seconds between two polls (or history reads)
    polling_seconds: float = Field(5.0, ge=0.05, le=3600)
    #: one request's timeout
    timeout_seconds: float = Field(15.0, gt=0, le=120)
    #: retries of a failed request (exponential backoff from backoff_seconds, with jitter)
    max_retries: int = Field(3, ge=0, le=10)
    backoff_seconds: float = Field(1.0, ge=0, le=60)
    #: a 429's Retry-After longer than this ends a one-shot poll with 75 instead of waiting
    max_retry_after_seconds: float = Field(120.0, ge=0, le=3600)
    #: how many of each channel's newest posts are remembered (their hashes: edits, deletes)
    window_posts: int = Field(200, ge=20, le=10_000)
    #: photos are downloaded to TK_HOME/media (false: only their URL is passed on)
    download_media: bool = True
    max_media_bytes: int = Field(10_000_000, ge=1_000, le=100_000_000)
    #: tk tg listen: the environment variables holding the account's api id and hash
    #: (from my.telegram.org; never in this file)
    api_id_env: str = "TELEGRAM_API_ID"
    api_hash_env: str = "TELEGRAM_API_HASH"
    #: tk tg ls exits 75 when a channel's last good poll is older than this
    stale_minutes: float = Field(10.0, gt=0)

    @field_validator("preview_url")
    @classmethod
    def _http(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return value if value.endswith("/") else value + "/"
