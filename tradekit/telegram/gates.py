"""Sanity gates on an entry signal (Cornix-style), after the structural checks.

A signal whose stop is on the wrong side of its entry contradicts itself: it stays an
entry, marked invalid, so tk-risk blocks it with the reason (and the audit shows it). A
signal that fails a gate below is more likely a typo than a trade: it needs a person.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from tradekit.telegram.results import EntrySignal, NeedsManual

MAX_LEVERAGE = 125
#: No two prices of one signal are further apart than this (0.7420 vs 7.550 is a typo).
MAX_PRICE_RATIO = Decimal(10)


def _fmt(value: Decimal) -> str:
    return format(value.normalize(), "f")


def check_entry(signal: EntrySignal, leverage: str | None) -> EntrySignal | NeedsManual:
    problem = _leverage_problem(leverage) or _price_problem(signal) or _target_problem(signal)
    if problem is not None:
        return NeedsManual(problem, (), signal.symbol)
    invalid = _stop_problem(signal)
    return dataclasses.replace(
        signal,
        leverage=int(Decimal(leverage)) if leverage is not None else None,
        valid=invalid is None,
        problem=invalid,
    )


def _leverage_problem(leverage: str | None) -> str | None:
    if leverage is None:
        return None
    value = Decimal(leverage)
    if value != value.to_integral_value() or not 1 <= value <= MAX_LEVERAGE:
        return f"leverage {_fmt(value)}x is not a whole number from 1 to {MAX_LEVERAGE}"
    return None


def _prices(signal: EntrySignal) -> list[Decimal]:
    prices = [*signal.entry_points, *signal.take_profits]
    prices += [p for p in (signal.entry_low, signal.entry_high, signal.stop_loss) if p is not None]
    return prices


def _price_problem(signal: EntrySignal) -> str | None:
    prices = _prices(signal)
    if any(price <= 0 for price in prices):
        return "a price of 0"
    if prices and max(prices) > min(prices) * MAX_PRICE_RATIO:
        return (
            f"prices {_fmt(min(prices))} and {_fmt(max(prices))} are more than "
            f"{MAX_PRICE_RATIO}x apart (a typo?)"
        )
    return None


def _target_problem(signal: EntrySignal) -> str | None:
    long = signal.side == "long"
    reference = signal.entry_low if long else signal.entry_high
    if reference is None:
        reference = signal.stop_loss
    if reference is None:
        return None
    for target in signal.take_profits:
        if (target <= reference) if long else (target >= reference):
            where = "above" if long else "below"
            return (
                f"take-profit {_fmt(target)} is not {where} {_fmt(reference)} for a {signal.side}"
            )
    return None


def _stop_problem(signal: EntrySignal) -> str | None:
    stop = signal.stop_loss
    if stop is None or signal.entry_low is None or signal.entry_high is None:
        return None
    if signal.side == "long" and stop >= signal.entry_low:
        return f"long with its stop {_fmt(stop)} at or above the entry {_fmt(signal.entry_low)}"
    if signal.side == "short" and stop <= signal.entry_high:
        return f"short with its stop {_fmt(stop)} at or below the entry {_fmt(signal.entry_high)}"
    return None
