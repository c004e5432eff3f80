"""Normalising a post: one spelling for every way of writing the same thing.

NFKC folds full-width digits and punctuation (`０．５` → `0.5`, `：` → `:`); the emoji
variation selector goes; a keycap digit (`1️⃣`) is an index, never a price, so it goes
too; long dashes become `-`. Each character of the result remembers where it came from, so
evidence quotes the post exactly.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

VARIATION_SELECTOR = "\ufe0f"
KEYCAP = "\u20e3"
DASHES = str.maketrans({"\u2014": "-", "\u2013": "-", "\u2012": "-", "\u2212": "-", "\u2015": "-"})


@dataclass(frozen=True, slots=True)
class Normalized:
    text: str
    #: the post (NFC)
    source: str
    #: origin[i]: the index in `source` of text[i]; None when they are the same string
    origin: tuple[int, ...] | None

    def quote(self, start: int, end: int) -> str:
        """The part of the post that text[start:end] came from."""
        if self.origin is None:
            return self.source[start:end].strip()
        if start >= end:
            return ""
        return self.source[self.origin[start] : self.origin[end - 1] + 1].strip()


def normalize(post: str) -> Normalized:
    source = unicodedata.normalize("NFC", post.replace("\r\n", "\n"))
    if source.isascii():
        return Normalized(source, source, None)
    folded = unicodedata.normalize("NFKC", source).translate(DASHES)
    if len(folded) == len(source) and VARIATION_SELECTOR not in folded and KEYCAP not in folded:
        return Normalized(folded, source, None)  # one character for one: positions agree
    if KEYCAP not in source:  # the common case: emoji with selectors, dropped
        kept = [i for i, char in enumerate(source) if char != VARIATION_SELECTOR]
        cleaned = source.replace(VARIATION_SELECTOR, "")
        folded = unicodedata.normalize("NFKC", cleaned).translate(DASHES)
        if len(folded) == len(cleaned):
            return Normalized(folded, source, tuple(kept))
    return _mapped(source)


def _mapped(source: str) -> Normalized:
    chars: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(source):
        if char == VARIATION_SELECTOR:
            continue
        if char == KEYCAP:
            if chars and chars[-1].isdigit():
                chars[-1] = " "  # 1️⃣: the digit is an index
            continue
        for folded in unicodedata.normalize("NFKC", char).translate(DASHES):
            chars.append(folded)
            origin.append(index)
    return Normalized("".join(chars), source, tuple(origin))
