"""Strategy plug-ins. Each module defines STRATEGY: a Strategy (see base.py).

Modules are imported only when their strategy is used, so `tk-signal --list` stays cheap.
"""

from __future__ import annotations

import importlib

from tradekit.errors import UsageError

#: name -> (module, one-line description)
REGISTRY: dict[str, tuple[str, str]] = {
    "v1": (
        "tradekit.strategies.v1",
        "legacy: 15m EMA50/200 trend; 5m pullback to EMA20/50; 1m VWAP and RSI confirmation",
    ),
    "v2": (
        "tradekit.strategies.v2",
        "1d EMA pyramid + ADX; 4h MACD/RSI/volume setup; 1h Bollinger break + stochastic",
    ),
    "v3": ("tradekit.strategies.v3", "1d EMA200 bias; 4h pullback to EMA20/50 and reclaim"),
    "dsl": (
        "tradekit.strategies.dsl",
        "your own rules from a JSON spec: tk-signal dsl --spec FILE.json",
    ),
    "v5": (
        "tradekit.strategies.v5",
        "4h EMA/ADX bias; 1h Donchian breakout retest, or EMA20 re-entry (production)",
    ),
}


def load(name: str):
    if name not in REGISTRY:
        known = ", ".join(REGISTRY)
        raise UsageError(f"unknown strategy {name!r}; one of: {known} (tk-signal --list)")
    return importlib.import_module(REGISTRY[name][0]).STRATEGY
