"""What a post is: entry, manage action, needs-manual, or no signal, decided by rule.

The order matters and is the whole policy:
1. an image post with almost no text needs a person (or a vision model);
2. analysis that says not to enter is never an entry;
3. a side with an entry is an entry signal (then the sanity gates);
4. an instruction about an open position is a manage action (or needs a person);
5. reports, chatter, reminders, news, promotions are not signals;
6. a signal that lacks a critical field needs a person; anything else is not a signal.
"""

from __future__ import annotations

import functools
import re
from decimal import Decimal

from tradekit.exchange.contracts import usdt_perpetuals
from tradekit.telegram import lexicon
from tradekit.telegram.fields import Fields, read_fields
from tradekit.telegram.gates import check_entry
from tradekit.telegram.grammar import Scan
from tradekit.telegram.results import EntrySignal, ManageAction, NeedsManual, NonSignal, ParseResult
from tradekit.telegram.symbols import SymbolChoice, choose_symbol
from tradekit.telegram.text import Normalized, normalize

#: An image post whose text is shorter than this cannot carry the plan.
IMAGE_TEXT_MIN = 20
IMAGE_REASON = "image post with almost no text: needs vision extraction"


@functools.cache
def _compiled(patterns: tuple[str, ...], folding: bool = False) -> re.Pattern[str]:
    """The lexicon's patterns are lower case and run over the lower-cased post; `folding`
    (ignoring case in the engine, ten times slower) only where lower() changes its length."""
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.I if folding else 0)


@functools.cache
def _each(patterns: tuple[str, ...], folding: bool = False) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p, re.I if folding else 0) for p in patterns)


class Lowered:
    """The post as the lexicon's patterns read it."""

    def __init__(self, text: str):
        lowered = text.lower()
        self.folding = len(lowered) != len(text)
        self.text = text if self.folding else lowered

    def search(self, patterns: tuple[str, ...]) -> re.Match[str] | None:
        return _compiled(patterns, self.folding).search(self.text)

    def first(self, patterns: tuple[str, ...]) -> re.Match[str] | None:
        """The earliest match of any of the patterns (each may carry a group)."""
        found = [m for p in _each(patterns, self.folding) if (m := p.search(self.text))]
        return min(found, key=lambda m: m.start()) if found else None


def parse_post(
    text: str, *, has_image: bool = False, markets: frozenset[str] | None = None
) -> ParseResult:
    """The standalone parse of one post (no I/O; never raises on any text)."""
    norm = normalize(text)
    scan = Scan(norm.text)
    scan.drop_block_comments()
    plain = scan.rest
    choice = choose_symbol(plain, usdt_perpetuals() if markets is None else markets)
    for start, end in choice.spans:
        scan.blank(start, end)
    fields = read_fields(scan)
    if has_image and len(text.strip()) < IMAGE_TEXT_MIN:
        return _image_post(choice, fields)
    lowered = Lowered(plain)
    if lowered.search(lexicon.NO_ENTRY):
        return NonSignal("market analysis; explicitly no entry")
    if fields.is_entry:
        return _entry(choice, fields, norm)
    manage = _manage(lowered, choice, norm)
    if manage is not None:
        return manage
    for pattern, reason in lexicon.NON_SIGNALS:
        if lowered.search((pattern,)):
            return NonSignal(reason)
    return _incomplete(choice, fields)


def _image_post(choice: SymbolChoice, fields: Fields) -> NeedsManual:
    present = {"symbol": choice.symbol, "side": fields.side, "entry": fields.has_entry}
    missing = tuple(name for name, value in present.items() if not value)
    return NeedsManual(IMAGE_REASON, missing, choice.symbol)


def _entry(choice: SymbolChoice, fields: Fields, norm: Normalized) -> EntrySignal | NeedsManual:
    if choice.symbol is None:
        return NeedsManual(choice.problem or "signal without a ticker", ("symbol",))
    if fields.side_conflict:
        return NeedsManual("the post names both sides", ("side",), choice.symbol)
    values = [num.value for num in fields.entry]
    points = tuple(values) if fields.enumerated or len(values) >= 3 else ()
    low, high = (min(values), max(values)) if values else (None, None)
    weights = fields.weights
    signal = EntrySignal(
        symbol=choice.symbol,
        side="long" if fields.side == "long" else "short",
        market=fields.market and not points,
        entry_low=low,
        entry_high=high,
        entry_points=points,
        stop_loss=fields.stop.value if fields.stop else None,
        take_profits=tuple(num.value for num in fields.targets),
        tp_weights=tuple(w / 100 for w in weights if w is not None)
        if weights and all(w is not None for w in weights)
        else (),
        leverage=None,
        evidence=_entry_evidence(choice, fields, norm),
    )
    return check_entry(signal, fields.leverage.value if fields.leverage else None)


def _entry_evidence(choice: SymbolChoice, fields: Fields, norm: Normalized) -> dict[str, str]:
    evidence: dict[str, str] = {}
    if choice.mention is not None:
        evidence["symbol"] = norm.quote(choice.mention.start, choice.mention.end)
    side = fields.sides[0]
    evidence["side"] = norm.quote(side.start, side.end)
    if fields.entry or fields.entry_label:
        start = fields.entry_label.start if fields.entry_label else fields.entry[0].start
        end = fields.entry[-1].end if fields.entry else fields.entry_label.end  # type: ignore[union-attr]
        evidence["entry"] = norm.quote(start, max(end, start))
    if fields.stop is not None and fields.stop_label is not None:
        evidence["stopLoss"] = norm.quote(fields.stop_label.start, fields.stop.end)
    if fields.targets and fields.targets_label is not None:
        evidence["takeProfits"] = norm.quote(fields.targets_label.start, fields.targets[-1].end)
    if fields.leverage is not None:
        evidence["leverage"] = norm.quote(fields.leverage.start, fields.leverage.end)
    return evidence


def _manage(post: Lowered, choice: SymbolChoice, norm: Normalized) -> ParseResult | None:
    for pattern, reason, missing in lexicon.MANUAL_INSTRUCTIONS:
        if post.search((pattern,)):
            return NeedsManual(reason, missing, choice.symbol)
    close = post.search(lexicon.CLOSE_ALL)
    reduce = post.first(lexicon.REDUCE_PCT)
    half = post.search(lexicon.HALF)
    to_be = post.search(lexicon.MOVE_SL_TO_BE)
    tp = post.first(lexicon.SET_TP)
    if not (close or reduce or half or to_be or tp):
        return None
    if choice.problem is not None:
        return NeedsManual(choice.problem, ("symbol",))
    pct: Decimal | None = None
    if close:
        pct = Decimal(100)
    elif reduce is not None:
        pct = Decimal(reduce.group(1))
    elif half:
        pct = Decimal(50)
    evidence = {
        name: norm.quote(*match.span())
        for name, match in (
            ("symbol", choice.mention and _span(choice.mention.start, choice.mention.end)),
            ("close", close),
            ("reducePct", reduce or half),
            ("moveSlToBe", to_be),
            ("tpPrice", tp),
        )
        if match
    }
    return ManageAction(
        symbol=choice.symbol,
        reduce_pct=pct,
        move_sl_to_be=bool(to_be),
        tp_price=Decimal(tp.group(1)) if tp else None,
        close_all=bool(close),
        evidence=evidence,
    )


class _span:
    """A found span, shaped like a match for the evidence table."""

    def __init__(self, start: int, end: int):
        self._span = (start, end)

    def span(self) -> tuple[int, int]:
        return self._span


def _incomplete(choice: SymbolChoice, fields: Fields) -> NeedsManual | NonSignal:
    """A signal that lacks its side or its entry needs a person; anything else is chatter."""
    protective = fields.stop is not None or bool(fields.targets)
    if fields.side and (choice.symbol or choice.problem) and protective:
        return NeedsManual("signal without an entry", ("entry",), choice.symbol)
    if fields.has_entry and protective and (choice.symbol or choice.problem):
        return NeedsManual("signal without a side", ("side",), choice.symbol)
    return NonSignal("no trade instruction")
