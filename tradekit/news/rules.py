"""The rules: which symbols an item concerns, its tags and score, and its direction.

The keyword groups are the seed's (Chinese, seed000-spec §3) plus English ones; each group
counts once per item. An item with a negative word is bearish (when its score is at most
bearish_max_score: by default 3, i.e. always, as in the seed); one scoring at least
bullish_score without a negative word is bullish.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tradekit.news.model import Item, Scored
from tradekit.news.settings import NewsSettings

#: tag -> (points, words). Words are matched in the lowercased title; ASCII words as whole
#: words, others (Chinese) as substrings.
GROUPS: dict[str, tuple[int, tuple[str, ...]]] = {
    "policy": (2, (
        "批准", "通过", "落地", "开放", "允许", "正面", "利好", "减税", "放松监管", "降息", "降准",
        "宽松", "现货etf", "etf净流入", "申赎", "增持", "监管明确", "立法进展",
        "approves", "approved", "approval", "rate cut", "cuts rates", "easing", "etf inflows",
        "legalizes", "clarity act", "tax cut",
    )),
    "flows": (2, (
        "净流入", "增持", "买入", "回购", "存入", "提币", "从cex提币", "机构", "基金", "贝莱德",
        "blackrock", "strategy", "microstrategy", "灰度", "whale", "巨鲸", "链上数据", "吸筹",
        "inflows", "buys", "accumulates", "grayscale", "institutional",
    )),
    "tech": (1, (
        "升级", "提案", "主网", "测试网", "分叉", "rollup", "layer2", "l2", "eip", "zk", "性能",
        "gas", "交易费下降", "基本面强劲", "新增地址", "upgrade", "mainnet", "hard fork",
    )),
    "price_action": (1, (
        "突破", "站上", "重回", "回升", "反弹", "收复", "涨超", "上涨",
        "breaks above", "surges", "rallies", "rebounds", "reclaims", "jumps", "soars",
    )),
    "negative": (-3, (
        "下探", "走弱", "利空", "抛售", "暴跌", "清算", "被盗", "攻击", "暂停", "关闭", "调查",
        "起诉", "处罚", "极度恐慌", "不会降息",
        "hack", "hacked", "exploit", "stolen", "crash", "plunges", "tumbles", "sell-off",
        "selloff", "liquidations", "lawsuit", "sues", "investigation", "ban", "bans",
        "halts", "suspends", "rate hike", "hikes rates", "extreme fear", "delist",
    )),
}  # fmt: skip
MACRO = (
    "美联储", "fomc", "降息", "加息", "cpi", "pce", "dxy", "国债", "通胀", "就业", "关税", "etf",
    "现货etf", "blackrock", "贝莱德", "fed", "federal reserve", "inflation", "treasury",
    "tariff", "payrolls", "powell", "sec",
)  # fmt: skip
CRYPTO = (
    "加密", "数字货币", "稳定币", "比特币", "以太坊", "btc", "eth", "crypto", "bitcoin",
    "stablecoin", "digital asset",
)  # fmt: skip


def _pattern(words: tuple[str, ...] | list[str]) -> re.Pattern[str]:
    parts = []
    for word in sorted(set(words), key=len, reverse=True):
        escaped = re.escape(word)
        parts.append(rf"(?<![a-z0-9]){escaped}(?![a-z0-9])" if word.isascii() else escaped)
    return re.compile("|".join(parts))


@dataclass(frozen=True)
class Rules:
    """The compiled rules of one config."""

    symbols: dict[str, re.Pattern[str]]
    groups: dict[str, tuple[int, re.Pattern[str]]]
    macro: re.Pattern[str]
    crypto: re.Pattern[str]
    bullish_score: int
    bearish_max_score: int

    @classmethod
    def build(
        cls, symbols: dict[str, list[str]], *, bullish_score: int = 1, bearish_max_score: int = 3
    ) -> Rules:
        return cls(
            symbols={symbol: _pattern(words) for symbol, words in symbols.items() if words},
            groups={tag: (points, _pattern(words)) for tag, (points, words) in GROUPS.items()},
            macro=_pattern(MACRO),
            crypto=_pattern(CRYPTO),
            bullish_score=bullish_score,
            bearish_max_score=bearish_max_score,
        )

    @classmethod
    def from_settings(cls, settings: NewsSettings) -> Rules:
        return cls.build(
            settings.symbols,
            bullish_score=settings.bullish_score,
            bearish_max_score=settings.bearish_max_score,
        )

    def score(self, item: Item) -> Scored:
        title = item.title.lower()
        symbols = tuple(s for s, pattern in self.symbols.items() if pattern.search(title))
        if not symbols and self.macro.search(title) and self.crypto.search(title):
            symbols = tuple(self.symbols)  # macro news about crypto concerns them all
        tags = tuple(tag for tag, (_p, pattern) in self.groups.items() if pattern.search(title))
        score = sum(self.groups[tag][0] for tag in tags)
        negative = "negative" in tags
        return Scored(
            item=item,
            symbols=symbols,
            tags=tags,
            score=score,
            bullish=not negative and score >= self.bullish_score,
            bearish=negative and score <= self.bearish_max_score,
        )
