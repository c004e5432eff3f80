"""The news rules as a table: which symbols a headline concerns, its tags, its score and
its direction (each keyword group alone and together, Chinese and English)."""

from __future__ import annotations

import pytest

from tradekit.news.model import Item
from tradekit.news.rules import Rules
from tradekit.news.settings import NewsSettings

RULES = Rules.build(NewsSettings().symbols)
BOTH = ("BTCUSDT", "ETHUSDT")

TABLE = [
    # title, symbols, tags, score, direction
    ("SEC approves spot bitcoin ETF options", ("BTCUSDT",), ("policy",), 2, "bullish"),
    ("比特币现货ETF获批准", ("BTCUSDT",), ("policy",), 2, "bullish"),
    ("BlackRock buys more BTC", ("BTCUSDT",), ("flows",), 2, "bullish"),
    ("巨鲸从CEX提币2000枚比特币", ("BTCUSDT",), ("flows",), 2, "bullish"),
    ("Ethereum mainnet upgrade scheduled", ("ETHUSDT",), ("tech",), 1, "bullish"),
    ("以太坊主网升级", ("ETHUSDT",), ("tech",), 1, "bullish"),
    ("Bitcoin rebounds to $66K", ("BTCUSDT",), ("price_action",), 1, "bullish"),
    ("比特币反弹站上6.6万美元", ("BTCUSDT",), ("price_action",), 1, "bullish"),
    ("Exchange hacked, ETH stolen", ("ETHUSDT",), ("negative",), -3, "bearish"),
    ("比特币暴跌，全网清算3亿美元", ("BTCUSDT",), ("negative",), -3, "bearish"),
    ("美联储不会降息，比特币走弱", ("BTCUSDT",), ("policy", "negative"), -1, "bearish"),
    ("BlackRock buys BTC as SEC approves ETF; bitcoin surges despite exchange hack",
     ("BTCUSDT",), ("policy", "flows", "price_action", "negative"), 2, "bearish"),
    # macro + crypto: every configured symbol
    ("Fed signals rate cut; crypto markets rally", BOTH, ("policy",), 2, "bullish"),
    ("美联储加息预期升温，加密市场承压", BOTH, (), 0, "neutral"),
    # macro alone, crypto alone, neither: no symbol
    ("Fed holds rates steady", (), (), 0, "neutral"),
    ("Solana validators ship client upgrade", (), ("tech",), 1, "bullish"),
    # whole words: "eth" is not in "ethics", "btc" not in "btcs", "sec" not in "second"
    ("Ethics committee meets for a second time", (), (), 0, "neutral"),
    ("ETH/BTC ratio hits a 5-year low", BOTH, (), 0, "neutral"),
]  # fmt: skip


@pytest.mark.parametrize(("title", "symbols", "tags", "score", "direction"), TABLE)
def test_the_rules_table(
    title: str, symbols: tuple[str, ...], tags: tuple[str, ...], score: int, direction: str
) -> None:
    scored = RULES.score(Item("t:1", "t", title, 0))
    got = "bearish" if scored.bearish else "bullish" if scored.bullish else "neutral"
    assert (scored.symbols, scored.tags, scored.score, got) == (symbols, tags, score, direction)


def test_thresholds_are_settings() -> None:
    strict = Rules.build(NewsSettings().symbols, bullish_score=3, bearish_max_score=0)
    tech = strict.score(Item("t:1", "t", "Ethereum mainnet upgrade", 0))
    assert not tech.bullish  # +1 is below 3
    mixed = strict.score(Item("t:2", "t", "BlackRock buys BTC as SEC approves; exchange hack", 0))
    assert mixed.score == 1 and not mixed.bearish  # the negative does not outweigh the rest


def test_symbols_and_their_words_are_configurable() -> None:
    rules = Rules.build({"SOLUSDT": ["sol", "solana"], "BTCUSDT": ["btc"]})
    assert rules.score(Item("t:1", "t", "Solana ETF approved", 0)).symbols == ("SOLUSDT",)
    assert rules.score(Item("t:2", "t", "Fed cuts rates; crypto up", 0)).symbols == (
        "SOLUSDT",
        "BTCUSDT",
    )
