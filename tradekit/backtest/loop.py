"""The bar loop: the live stages, in one process, on a simulated clock.

At each bar's close T the loop does what cron does at T — `bin/tk-cycle --paper --now T`
(the bar's tk-signal record through tk-news-gate, tk-risk and tk-exec) then
`tk-guard --paper --now T` — by calling those commands' own stage objects with the same
record bytes their pipe would carry. Bars where nothing can happen (no plan, no position,
no resting order) are skipped: numpy finds the next bar with a plan, and the paper
exchange replays the skipped bars' prices when it is next asked, as it does between
cron runs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np

from tradekit.backtest.clock import SimClock
from tradekit.records import TradePlan
from tradekit.stream import InputLine, Invalid, parse_line, to_json_bytes


@dataclass(frozen=True)
class BarPlans:
    """tk-signal's replay of the window: one record per closed bar, by its close time."""

    close_ms: np.ndarray
    records: list[dict[str, Any]]

    @property
    def with_plan(self) -> np.ndarray:
        return np.fromiter((r["plan"] is not None for r in self.records), bool, len(self.records))


class Funding:
    """Funding at each funding time while a position is open: rate x notional at the
    mark, from the account's balance (longs pay a positive rate, shorts receive it).
    What each position paid is kept by (symbol, side, opened ms) for its trade."""

    def __init__(self, rate: Decimal, interval_hours: int):
        self.rate = rate
        self.interval_ms = interval_hours * 3600_000
        self.paid: dict[tuple[str, str, int], Decimal] = {}

    def times_between(self, after_ms: int, until_ms: int) -> int:
        """How many funding times fall in (after_ms, until_ms]."""
        return until_ms // self.interval_ms - after_ms // self.interval_ms

    def charge(self, engine: Any, times: int) -> None:
        for (symbol, side), position in engine.state.positions.items():
            mark = engine.state.prices[symbol].mark
            sign = 1 if side == "long" else -1
            amount = position.size * mark * self.rate * sign * times
            engine.state.balance -= amount
            key = (symbol, side, position.opened)
            self.paid[key] = self.paid.get(key, Decimal(0)) + amount


@dataclass
class LoopResult:
    #: the records of the bars that had a plan, as tk-exec wrote them
    decisions: list[bytes] = field(default_factory=list)
    #: (bar close ms, equity) after each bar the loop stepped through
    equity: list[tuple[int, Decimal]] = field(default_factory=list)
    bars_stepped: int = 0


class _Discard:
    """tk-guard's stdout in a backtest: its events are in the run's guard.jsonl."""

    def write(self, _data: bytes) -> None:
        pass

    def flush(self) -> None:
        pass


class Stages:
    """One bar's cron runs, each stage built as its command builds it at start-up."""

    def __init__(self, session: Any, store: Any, clock: SimClock, funding: Funding):
        self.session, self.store, self.clock = session, store, clock
        self.funding = funding
        self._cleanup = ExitStack()
        from tradekit.cli.guard import GuardRun

        self.guard_run = self._cleanup.enter_context(GuardRun(session, out=_Discard()))
        self.exchange = self.guard_run.guard.exchange

    def close(self) -> None:
        self._cleanup.close()

    def cycle(self, signal_record: dict[str, Any], number: int) -> bytes:
        """tk-news-gate | tk-risk | tk-exec over one record, as bin/tk-cycle pipes it."""
        from tradekit.cli.exec import ExecStage
        from tradekit.cli.news_gate import GateRun
        from tradekit.cli.risk import RiskChecker

        data = to_json_bytes(signal_record)
        gate, risk, execute = GateRun(), RiskChecker(None), ExecStage()
        for name, stage in (("news-gate", gate), ("risk", risk), ("exec", execute)):
            stage.start(self.session, self.store)
            parsed = parse_line(InputLine(name, number, data), TradePlan, name)
            if parsed is None or isinstance(parsed, Invalid):
                raise AssertionError(f"{name} refused the record of the stage before it")
            data = to_json_bytes(stage.process(parsed))
            if stage is risk:  # committed before the line goes on, as tk-risk's runner does
                risk.record_approvals()
        return data

    def charge_funding(self, symbol: str, after_ms: int, until_ms: int) -> None:
        """Funding for the funding times since the last bar the loop stepped through (a
        skipped bar held nothing)."""
        times = self.funding.times_between(after_ms, until_ms)
        if times and self.funding.rate:
            with self.session.held_paper.paper.session(symbol) as engine:
                self.funding.charge(engine, times)

    def guard(self) -> Decimal | None:
        """One tk-guard pass; the account's equity at the bar."""
        return self.guard_run.guard.run_once().equity

    def busy(self, symbol: str) -> bool:
        """Whether a later bar can change anything: a position or a resting order."""
        return bool(self.exchange.positions(symbol) or self.exchange.open_orders(symbol))


def run_bars(plans: BarPlans, stages: Stages, symbol: str) -> LoopResult:
    result = LoopResult()
    previous = None
    for index in _event_bars(plans, stages, symbol):
        close_ms = int(plans.close_ms[index])
        stages.clock.set(close_ms)
        if previous is not None:
            stages.charge_funding(symbol, previous, close_ms)
        previous = close_ms
        record = plans.records[index]
        if record["plan"] is not None:
            result.decisions.append(stages.cycle(record, index + 1))
        equity = stages.guard()
        if equity is not None:
            result.equity.append((close_ms, equity))
        result.bars_stepped += 1
    return result


def _event_bars(plans: BarPlans, stages: Stages, symbol: str) -> Iterator[int]:
    """Every bar from one with a plan on, while a position or an order lives; then on to
    the next bar with a plan."""
    planned = np.flatnonzero(plans.with_plan)
    index = int(planned[0]) if len(planned) else len(plans.records)
    while index < len(plans.records):
        yield index
        if stages.busy(symbol):
            index += 1
            continue
        later = planned[np.searchsorted(planned, index, "right") :]
        index = int(later[0]) if len(later) else len(plans.records)
