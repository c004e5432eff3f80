"""GET with retries: exponential backoff with jitter, a 429's or a 503's Retry-After
honoured, a 4xx other than 429 never retried. Failures are errors with exit statuses: the
source unreachable (69), rate limited for longer than we wait (75)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

from tradekit.errors import ExchangeUnavailableError, TryAgainLaterError

RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})


class SourceUnavailableError(ExchangeUnavailableError):
    """The source could not be read (exit 69)."""


class RateLimitedError(TryAgainLaterError):
    """The source asked us to wait longer than we are allowed to (exit 75)."""


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 3
    backoff_seconds: float = 1.0
    max_retry_after_seconds: float = 120.0
    #: up to this fraction is added to each backoff, so that many followers do not align
    jitter: float = 0.25

    def backoff(self, attempt: int, rng: random.Random) -> float:
        base = self.backoff_seconds * 2**attempt
        return base * (1 + rng.uniform(0, self.jitter))


@dataclass(frozen=True)
class Retry:
    wait: float
    why: str


def user_agent() -> str:
    from tradekit import __version__

    return f"tradekit/{__version__} (channel follower; one page per poll)"


def retry_after(headers: Any, now: float) -> float | None:
    """Seconds from a Retry-After header: a number of seconds or an HTTP date."""
    value = (headers.get("retry-after") or "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - now)
    except (TypeError, ValueError):
        return None


class Fetcher:
    """One httpx client for a run (connections kept alive between polls)."""

    def __init__(
        self,
        *,
        timeout: float,
        policy: RetryPolicy,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ):
        import httpx

        self._httpx = httpx
        self.client = httpx.Client(
            timeout=timeout, follow_redirects=True, headers={"User-Agent": user_agent()}
        )
        self.policy, self.sleep, self.rng = policy, sleep, rng or random.Random()
        #: every wait taken, in seconds (what a run reports; tests read it)
        self.waits: list[float] = []

    def close(self) -> None:
        self.client.close()

    def get(self, url: str, *, max_bytes: int | None = None) -> bytes:
        failed = Retry(0, "not tried")
        for attempt in range(self.policy.max_retries + 1):
            outcome = self._try(url, max_bytes, attempt)
            if isinstance(outcome, bytes):
                return outcome
            failed = outcome
            if attempt < self.policy.max_retries:
                self.waits.append(failed.wait)
                self.sleep(failed.wait)
        raise SourceUnavailableError(
            f"{url}: {failed.why} (after {self.policy.max_retries} retries)"
        )

    def _try(self, url: str, max_bytes: int | None, attempt: int) -> bytes | Retry:
        """The body, or how long to wait before trying again and why."""
        httpx = self._httpx
        backoff = self.policy.backoff(attempt, self.rng)
        try:
            with self.client.stream("GET", url) as response:
                status = response.status_code
                if status in RETRIED_STATUSES:
                    asked = retry_after(response.headers, time.time())
                    if asked is not None and asked > self.policy.max_retry_after_seconds:
                        raise RateLimitedError(
                            f"{url}: HTTP {status}, Retry-After {asked:g} s (more than "
                            f"max_retry_after_seconds = {self.policy.max_retry_after_seconds:g})"
                        )
                    return Retry(backoff if asked is None else asked, f"HTTP {status}")
                if status >= 400:
                    raise SourceUnavailableError(f"{url}: HTTP {status}")
                return _read(response, url, max_bytes)
        except httpx.TimeoutException:
            return Retry(backoff, "timed out")
        except httpx.TransportError as exc:
            return Retry(backoff, f"{type(exc).__name__}: {exc}")


def _read(response: Any, url: str, max_bytes: int | None) -> bytes:
    declared = response.headers.get("content-length")
    if max_bytes is not None and declared and declared.isdigit() and int(declared) > max_bytes:
        raise SourceUnavailableError(f"{url}: {declared} bytes, more than the cap of {max_bytes}")
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if max_bytes is not None and size > max_bytes:
            raise SourceUnavailableError(f"{url}: more than the cap of {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
