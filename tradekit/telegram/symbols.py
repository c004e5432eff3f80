"""Tickers in a post, resolved against the exchange's contract list.

`#ARB/USDT`, `ARB/USDT`, `ARBUSDT`, `$ARB`, `#ARB`, `Pair: ARB` all name ARBUSDT; a bare
upper-case base (`BTC LONG`) counts when it is a contract and not an ordinary word. A
ticker written in other letters (`#币安人生`) or that is no contract cannot be traded by
rule: the post needs a person.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from tradekit.telegram.lexicon import NOT_BARE_TICKERS, PAIR_LABELS, TAG_WORDS

QUOTE = "USDT"
MentionKind = Literal["pair", "label", "tag", "bare", "foreign"]

_FOREIGN_TAG = re.compile(r"[#$]([^\x00-\x7f\s#$/(),:.!?][^\s#$/(),:.!?]*)")
_PAIR = re.compile(
    r"(?<![A-Za-z0-9])[#$]?([A-Za-z0-9]{1,20}?)(?:\s?/\s?)?USDT(?![A-Za-z0-9])", re.I
)
_LABELLED = re.compile(
    rf"(?<![^\W\d_])(?:{'|'.join(PAIR_LABELS)})\s*:\s*[#$]?([A-Za-z0-9]{{1,20}})(?![A-Za-z0-9/])",
    re.I,
)
_TAG = re.compile(r"[#$]([A-Za-z0-9]{1,20})(?![A-Za-z0-9/])")
_BARE = re.compile(r"(?<![A-Za-z0-9#$])([A-Z][A-Z0-9]{1,14})(?![A-Za-z0-9/])")


@dataclass(frozen=True, slots=True)
class Mention:
    start: int
    end: int
    base: str
    kind: MentionKind


@dataclass(frozen=True, slots=True)
class SymbolChoice:
    """The post's symbol, or why there is none (`problem`), and every span that named a
    ticker or a tag (none of their digits is a price)."""

    symbol: str | None
    problem: str | None
    mention: Mention | None
    spans: tuple[tuple[int, int], ...]


def find_mentions(text: str) -> list[Mention]:
    taken = bytearray(len(text))
    found: list[Mention] = []

    def add(match: re.Match[str], kind: MentionKind, base: str) -> None:
        start, end = match.span()
        if any(taken[start:end]):
            return
        taken[start:end] = b"\x01" * (end - start)
        found.append(Mention(start, end, base, kind))

    tagged = "#" in text or "$" in text
    if tagged and not text.isascii():
        for match in _FOREIGN_TAG.finditer(text):
            if match.group(1)[0].isalpha():
                add(match, "foreign", match.group(1))
    for match in _PAIR.finditer(text):
        add(match, "pair", match.group(1).upper())
    if ":" in text:
        for match in _LABELLED.finditer(text):
            add(match, "label", match.group(1).upper())
    if tagged:
        for match in _TAG.finditer(text):
            add(match, "tag", match.group(1).upper())
    for match in _BARE.finditer(text):
        add(match, "bare", match.group(1))
    found.sort(key=lambda mention: mention.start)
    return found


def choose_symbol(text: str, markets: frozenset[str]) -> SymbolChoice:
    mentions = find_mentions(text)
    named = [m for m in mentions if m.kind != "bare" and _names_a_ticker(m)]
    spans = tuple((m.start, m.end) for m in mentions if m.kind != "bare")
    for mention in named:
        if mention.kind != "foreign" and mention.base + QUOTE in markets:
            return SymbolChoice(mention.base + QUOTE, None, mention, spans)
    if named:
        first = named[0]
        if first.kind == "foreign":
            problem = f"ticker {first.base!r} is not ASCII; no contract can be derived by rule"
        else:
            problem = f"{first.base}{QUOTE} is not a Bitget USDT-M perpetual"
        return SymbolChoice(None, problem, first, spans)
    bare = [m for m in mentions if m.kind == "bare" and _is_bare_ticker(m.base, markets)]
    spans += tuple((m.start, m.end) for m in bare)
    if bare:
        return SymbolChoice(bare[0].base + QUOTE, None, bare[0], spans)
    return SymbolChoice(None, None, None, spans)


def _names_a_ticker(mention: Mention) -> bool:
    if mention.kind != "tag":
        return True
    return not mention.base.isdigit() and mention.base not in TAG_WORDS


def _is_bare_ticker(base: str, markets: frozenset[str]) -> bool:
    return base not in NOT_BARE_TICKERS and base + QUOTE in markets
