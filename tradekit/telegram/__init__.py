"""Telegram channels: following them (sources/, media.py, models/) and parsing their posts.

The rules parser behind tk-parse-tg:

`parse_post(text)` reads one post (no I/O) and says what it is: an entry signal, a manage
action, a post that needs a person, or no signal at all. `plans` turns that into a
TradePlan v1 record; `book` keeps what each post produced (SQLite), so a reply that names
no symbol is resolved from the post it replies to.
"""

from tradekit.telegram.classify import parse_post
from tradekit.telegram.results import (
    EntrySignal,
    ManageAction,
    NeedsManual,
    NonSignal,
    ParseResult,
)

__all__ = [
    "EntrySignal",
    "ManageAction",
    "NeedsManual",
    "NonSignal",
    "ParseResult",
    "parse_post",
]
