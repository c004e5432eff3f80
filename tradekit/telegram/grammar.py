"""The small grammar of a signal post.

A post is read in passes over its normalised text. Each pass finds one kind of thing and
blanks it out, so no later pass can mistake it for a price: tickers (`1000BONK`), leverage
(`20x`, `(3-5x)`, `x10`, `20倍`), sides, percentages (a target's weight), labels
(lexicon.LABELS) and indexes (`TP1`, `1)`, `Target 1:`). What is left after a label, up to
the next label or blank line, is that label's value: its numbers in the order written.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from tradekit.telegram.lexicon import (
    BLOCK_COMMENTS,
    INDEXED,
    LABELS,
    NOT_SIDES,
    SIDE_AFTER_PRICE,
    SIDE_WORDS,
)

NUMBER = re.compile(r"(?<![A-Za-z0-9.])(\d+(?:\.\d+)?)(?![A-Za-z0-9])")
PERCENT = re.compile(r"(?<![A-Za-z0-9.])(\d+(?:\.\d+)?)\s?%")
LEVERAGE_RANGE = re.compile(
    r"(?<![A-Za-z0-9.])(\d{1,3}(?:\.0+)?)\s?[x×倍]?\s?[-~]\s?(\d{1,3}(?:\.0+)?)\s?[x×倍](?![A-Za-z0-9])",
    re.I,
)
LEVERAGE = re.compile(r"(?<![A-Za-z0-9.])(\d{1,4}(?:\.\d+)?)\s?[x×倍](?![A-Za-z0-9])", re.I)
LEVERAGE_PREFIX = re.compile(r"(?<![A-Za-z0-9.])[x×](\d{1,4})(?![\d.])", re.I)
ENUMERATION = re.compile(r"(?<![\d.])\d{1,2}\)")
ATTACHED_INDEX = re.compile(r"\d{1,2}(?=\s?[:)\-]?\s?\d)|\s?\d{1,2}\s?[:)](?=\s*\d)")
PARAGRAPH = re.compile(r"\n\s*\n")
_SIDE_CHARS = "".join(SIDE_AFTER_PRICE)
#: 多/空 right after a price (0.1832附近多), or standing alone as a word (ETH 多 3120-3150);
#: never inside a phrase (多空都有机会).
SIDE_AFTER = re.compile(
    rf"(?:(?<=\d)|(?<=附近))\s?([{_SIDE_CHARS}])|(?:(?<=\s)|^)([{_SIDE_CHARS}])(?=[\s\d(]|$)"
)


def _is_cjk(char: str) -> bool:
    return ord(char) >= 0x2E80


def _phrase(words: Iterable[str]) -> str:
    """One alternation, longest first; Latin and Cyrillic words only as whole words."""
    parts = []
    for word in sorted(set(words), key=len, reverse=True):
        body = re.escape(word).replace(r"\ ", r"\s+")
        if word[0].isalpha() and not _is_cjk(word[0]):
            body = rf"(?<![^\W\d_]){body}(?![^\W\d_])"
        parts.append(body)
    return "|".join(parts)


@functools.cache
def _label_table() -> tuple[re.Pattern[str], dict[str, str]]:
    fields = {word.lower(): name for name, words in LABELS.items() for word in words}
    return re.compile(_phrase(fields), re.I), fields


@functools.cache
def _side_table() -> tuple[re.Pattern[str], dict[str, str], re.Pattern[str], re.Pattern[str]]:
    sides = {word.lower(): side for side, words in SIDE_WORDS.items() for word in words}
    return (
        re.compile(_phrase(sides), re.I),
        sides,
        re.compile(_phrase(NOT_SIDES), re.I),
        re.compile(_phrase(BLOCK_COMMENTS), re.I),
    )


@dataclass(frozen=True, slots=True)
class Label:
    start: int
    end: int
    field: str


@dataclass(frozen=True, slots=True)
class Num:
    start: int
    end: int
    value: Decimal


@dataclass(slots=True)
class Region:
    """A label and the numbers of its value."""

    label: Label
    numbers: list[Num] = field(default_factory=list)
    weights: list[Num] = field(default_factory=list)
    enumerated: bool = False

    @property
    def end(self) -> int:
        return self.numbers[-1].end if self.numbers else self.label.end


@dataclass(frozen=True, slots=True)
class Hit:
    start: int
    end: int
    value: str


class Scan:
    """The passes over one post. `chars` is the text with what was read blanked out."""

    def __init__(self, text: str):
        self.text = text
        self.chars = list(text)

    @property
    def rest(self) -> str:
        return "".join(self.chars)

    def blank(self, start: int, end: int) -> None:
        self.chars[start:end] = " " * (end - start)

    def drop_block_comments(self) -> None:
        """Bot configuration (Cornix's trailing block) up to the next blank line."""
        pattern = _side_table()[3]
        for match in pattern.finditer(self.rest):
            ends = PARAGRAPH.search(self.text, match.end())
            self.blank(match.start(), ends.start() if ends else len(self.text))

    def leverage(self) -> Hit | None:
        """The first leverage written (a range gives its lower bound); all are blanked."""
        found: list[Hit] = []
        for pattern in (LEVERAGE_RANGE, LEVERAGE, LEVERAGE_PREFIX):
            for match in pattern.finditer(self.rest):
                value = min(match.groups(), key=Decimal)
                found.append(Hit(match.start(), match.end(), value))
                self.blank(match.start(), match.end())
        return min(found, key=lambda hit: hit.start) if found else None

    def sides(self) -> list[Hit]:
        pattern, sides, not_sides, _ = _side_table()
        rest = self.rest
        other = [m.span() for m in not_sides.finditer(rest)]  # "Short Term:", "Buy zone"
        found = [
            Hit(m.start(), m.end(), sides[key])
            for m in pattern.finditer(rest)
            if (key := _key(m.group(0))) in sides
            and not any(start <= m.start() < end for start, end in other)
        ]
        for match in SIDE_AFTER.finditer(rest):
            group = 1 if match.group(1) else 2
            found.append(Hit(match.start(group), match.end(group), SIDE_AFTER_PRICE[match[group]]))
        for hit in found:
            self.blank(hit.start, hit.end)
        return sorted(found, key=lambda hit: hit.start)

    def percentages(self) -> list[Num]:
        found = [Num(m.start(), m.end(), Decimal(m.group(1))) for m in PERCENT.finditer(self.rest)]
        for num in found:
            self.blank(num.start, num.end)
        return found

    def labels(self) -> list[Label]:
        pattern, fields = _label_table()
        found = [
            Label(m.start(), m.end(), fields[key])
            for m in pattern.finditer(self.rest)
            if (key := _key(m.group(0))) in fields
        ]
        for label in found:
            self.blank(label.start, label.end)
        return found

    def regions(self, labels: list[Label], percentages: list[Num]) -> list[Region]:
        """Each label's value: from the label to the next label or blank line."""
        regions = []
        for index, label in enumerate(labels):
            stop = labels[index + 1].start if index + 1 < len(labels) else len(self.text)
            blank_line = PARAGRAPH.search(self.text, label.end, stop)
            if blank_line:
                stop = blank_line.start()
            regions.append(self._region(label, stop, percentages))
        return regions

    def _region(self, label: Label, stop: int, percentages: list[Num]) -> Region:
        region = Region(label)
        if label.field in INDEXED:
            index = ATTACHED_INDEX.match(self.rest, label.end, stop)
            if index:
                self.blank(*index.span())
        rest = self.rest
        for match in ENUMERATION.finditer(rest, label.end, stop):
            region.enumerated = True
            self.blank(*match.span())
        rest = self.rest
        region.numbers = [
            Num(m.start(1), m.end(1), Decimal(m.group(1)))
            for m in NUMBER.finditer(rest, label.end, stop)
        ]
        region.weights = [p for p in percentages if label.end <= p.start < stop]
        return region

    def numbers_before(self, stop: int) -> list[Num]:
        """Unlabelled numbers on the first line before `stop` (`!short ETHUSDT 3480 sl=…`)."""
        line_end = self.text.find("\n")
        stop = min(stop, line_end) if line_end >= 0 else stop
        return [
            Num(m.start(1), m.end(1), Decimal(m.group(1)))
            for m in NUMBER.finditer(self.rest, 0, stop)
        ]


def _key(phrase: str) -> str:
    return re.sub(r"\s+", " ", phrase.lower())
