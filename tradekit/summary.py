"""Counting what a pipeline decided: the figures `tk-report` prints."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from tradekit.records import TradePlan
from tradekit.report.trades import TradeStats


@dataclass
class PipelineSummary:
    records: int = 0
    with_plan: int = 0
    no_plan: int = 0
    sides: Counter[str] = field(default_factory=Counter)
    news_blocked: int = 0
    risk: Counter[str] = field(default_factory=Counter)
    execution: Counter[str] = field(default_factory=Counter)
    dry_run_flagged: int = 0
    trades: TradeStats = field(default_factory=TradeStats)

    def add(self, record: TradePlan) -> None:
        self.records += 1
        if record.plan is None:
            self.no_plan += 1
        else:
            self.with_plan += 1
            self.sides[record.plan.side or "unset"] += 1
        if record.dry_run:
            self.dry_run_flagged += 1
        if record.decision is not None and record.decision.blocked_by_news:
            self.news_blocked += 1
        if record.risk is None:
            self.risk["not checked"] += 1
        else:
            self.risk["approved" if record.risk.approved else "blocked"] += 1
        self.execution[record.execution.status if record.execution else "not executed"] += 1

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "records": self.records,
            "withPlan": self.with_plan,
            "noPlan": self.no_plan,
            "sides": dict(sorted(self.sides.items())),
            "dryRunFlagged": self.dry_run_flagged,
            "newsBlocked": self.news_blocked,
            "risk": dict(sorted(self.risk.items())),
            "execution": dict(sorted(self.execution.items())),
            "trades": self.trades.to_json_dict(),
        }

    def to_text(self) -> str:
        def counts(counter: Counter[str]) -> str:
            return ", ".join(f"{name} {n}" for name, n in sorted(counter.items())) or "-"

        rows = [
            ("records", str(self.records)),
            ("with a plan", f"{self.with_plan}  ({counts(self.sides)})"),
            ("no plan", str(self.no_plan)),
            ("marked dry-run", str(self.dry_run_flagged)),
            ("blocked by news", str(self.news_blocked)),
            ("risk", counts(self.risk)),
            ("execution", counts(self.execution)),
            *self.trades.rows(),
        ]
        width = max(len(name) for name, _ in rows)
        return "\n".join(f"{name:<{width}}  {value}" for name, value in rows) + "\n"
