"""The Bitget USDT-M perpetual contracts tradekit knows by name (exchange/data/, see its README)."""

from __future__ import annotations

import functools
from importlib import resources

CONTRACTS_FILE = "bitget-usdt-perpetuals.txt"


def parse_contract_list(text: str) -> frozenset[str]:
    """Symbol ids from the text of a contract list: one a line, `#` comments, blanks skipped."""
    ids = (line.split("#", 1)[0].strip().upper() for line in text.splitlines())
    return frozenset(symbol for symbol in ids if symbol)


@functools.cache
def usdt_perpetuals() -> frozenset[str]:
    """Every Bitget USDT-M perpetual in the bundled list, as Bitget ids (BTCUSDT)."""
    text = resources.files("tradekit.exchange").joinpath("data", CONTRACTS_FILE).read_text("utf-8")
    return parse_contract_list(text)
