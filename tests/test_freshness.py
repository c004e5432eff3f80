"""The one staleness rule (market.freshness): when a price is too old, how its age reads,
and when a close replayed from stored bars was true."""

from __future__ import annotations

import pytest

from tradekit.guard.settings import WatchSettings
from tradekit.market.freshness import bar_price_ms, describe_age, is_stale, stale_reason

S, MIN, HOUR, DAY = 1000, 60_000, 3_600_000, 86_400_000
CLOSE = 1771524000000  # 2026-02-19T18:00:00Z


@pytest.mark.parametrize(
    ("age_ms", "text"),
    [
        (0, "0 s"),
        (119 * S, "119 s"),
        (120 * S, "2 min"),
        (119 * MIN + 59 * S, "119 min"),
        (2 * HOUR, "2 hours"),
        (47 * HOUR, "47 hours"),
        (2 * DAY, "2 days"),
        (89 * DAY, "89 days"),
        (90 * DAY, "2 months"),
        (286 * DAY, "9 months"),
        (730 * DAY, "23 months"),
        (731 * DAY, "2 years"),
    ],
)
def test_an_age_reads_in_the_largest_unit_that_is_at_least_two(age_ms: int, text: str) -> None:
    assert describe_age(age_ms) == text


def test_stale_is_older_than_the_limit_and_a_price_with_no_time_is_stale() -> None:
    assert not is_stale(CLOSE, CLOSE + 5 * S, 5)
    assert is_stale(CLOSE, CLOSE + 5 * S + 1, 5)
    assert not is_stale(CLOSE + S, CLOSE, 5)  # a clock a little behind the exchange's
    assert is_stale(None, CLOSE, 5)
    assert stale_reason("BTCUSDT", CLOSE, CLOSE + 5 * S, 5) is None
    assert stale_reason("BTCUSDT", None, CLOSE, 2.5) == (
        "price: BTCUSDT last price has no time ([guard.watch] max_stale_seconds is 2.5)"
    )


def test_the_guard_setting_asks_the_same_rule() -> None:
    watch = WatchSettings(max_stale_seconds=60)
    for price_ms in (None, CLOSE - 60 * S, CLOSE - 60 * S - 1, CLOSE):
        assert watch.is_stale(price_ms, CLOSE) == is_stale(price_ms, CLOSE, 60)


@pytest.mark.parametrize(
    ("now_ms", "price_ms"),
    [
        (CLOSE, CLOSE),  # the bar has just closed
        (CLOSE + HOUR - 1, CLOSE + HOUR - 1),  # no newer 1h bar can have closed yet: now
        (CLOSE + HOUR, CLOSE),  # the next bar should have closed and is missing
        (CLOSE + 30 * DAY, CLOSE),
    ],
)
def test_a_replayed_close_is_the_price_until_the_next_bar_should_have_closed(
    now_ms: int, price_ms: int
) -> None:
    assert bar_price_ms(CLOSE, HOUR, now_ms) == price_ms
