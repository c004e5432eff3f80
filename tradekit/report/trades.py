"""Trades (entry to exit, with PnL) from the guard's events or a backtest's trades.jsonl,
the figures tk-report prints about them, and the account's equity curve."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

#: guard events that open a tracked position, and those that end one (with its PnL)
OPENS = ("tracking", "unknown_position")
CLOSES = ("close", "closed_on_exchange")


def decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


@dataclass
class Trade:
    symbol: str | None
    side: str | None
    exit_ts: str | None
    pnl: Decimal | None
    reason: str | None = None
    entry_ts: str | None = None
    entry: Decimal | None = None
    exit: Decimal | None = None
    fees: Decimal | None = None
    cycle_key: str | None = None
    cycle_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        def num(value: Decimal | None) -> float | None:
            return None if value is None else float(value)

        return {
            "symbol": self.symbol,
            "side": self.side,
            "entryTs": self.entry_ts,
            "exitTs": self.exit_ts,
            "entry": num(self.entry),
            "exit": num(self.exit),
            "pnl": num(self.pnl),
            "fees": num(self.fees),
            "reason": self.reason,
            "cycleKey": self.cycle_key,
            "cycleId": self.cycle_id,
        }


def trades_from_guard(events: list[dict[str, Any]]) -> list[Trade]:
    """Each close event, paired with the last open event of its symbol and side."""
    opened: dict[tuple[Any, Any], dict[str, Any]] = {}
    trades = []
    for event in events:
        key = (event.get("symbol"), event.get("side"))
        if event.get("kind") in OPENS:
            opened[key] = event
        elif event.get("kind") in CLOSES:
            start = opened.pop(key, None) or {}
            prices, details = event.get("prices") or {}, event.get("details") or {}
            trades.append(
                Trade(
                    symbol=event.get("symbol"),
                    side=event.get("side"),
                    exit_ts=event.get("ts"),
                    pnl=decimal(event.get("pnl")),
                    reason=event.get("reason"),
                    entry_ts=start.get("ts"),
                    entry=decimal(prices.get("entry") or (start.get("prices") or {}).get("entry")),
                    exit=decimal(prices.get("exit")),
                    fees=decimal(details.get("fees", details.get("fee"))),
                    cycle_key=(start.get("details") or {}).get("cycleKey"),
                )
            )
    return trades


def trades_from_backtest(rows: list[dict[str, Any]]) -> list[Trade]:
    """A backtest's trades.jsonl: one trade a line (entryTime/exitTime, entryPrice/
    exitPrice, pnl, fees, exitReason, cycleId)."""
    return [
        Trade(
            symbol=row.get("symbol"),
            side=row.get("side"),
            entry_ts=row.get("entryTime", row.get("entryTs")),
            exit_ts=row.get("exitTime", row.get("exitTs")),
            entry=decimal(row.get("entryPrice", row.get("entry"))),
            exit=decimal(row.get("exitPrice", row.get("exit"))),
            pnl=decimal(row.get("pnl")),
            fees=decimal(row.get("fees", row.get("fee"))),
            reason=row.get("exitReason", row.get("reason")),
            cycle_id=row.get("cycleId"),
        )
        for row in rows
    ]


@dataclass
class TradeStats:
    """What `tk-report` prints about the closed trades."""

    trades: int = 0
    wins: int = 0
    pnl: Decimal = Decimal(0)
    fees: Decimal | None = None
    reasons: dict[str, int] = field(default_factory=dict)

    def add(self, trade: Trade) -> None:
        self.trades += 1
        if trade.pnl is not None:
            self.pnl += trade.pnl
            self.wins += trade.pnl > 0
        if trade.fees is not None:
            self.fees = (self.fees or Decimal(0)) + trade.fees
        reason = trade.reason or "unknown"
        self.reasons[reason] = self.reasons.get(reason, 0) + 1

    @property
    def win_rate(self) -> Decimal | None:
        return None if not self.trades else Decimal(self.wins * 100) / self.trades

    def to_json_dict(self) -> dict[str, Any]:
        rate = self.win_rate
        return {
            "trades": self.trades,
            "wins": self.wins,
            "realisedPnl": self.pnl,
            "winRatePct": None if rate is None else rate.quantize(Decimal("0.1")),
            "fees": self.fees,
            "exitReasons": dict(sorted(self.reasons.items())),
        }

    def _fees(self) -> str:
        if self.fees is not None:
            return f"{self.fees:f} USDT"
        return "-" if not self.trades else "in the PnL (the close events give no fee apart)"

    def rows(self) -> list[tuple[str, str]]:
        rate = self.win_rate
        return [
            ("trades closed", str(self.trades)),
            ("realised PnL", f"{self.pnl:f} USDT" if self.trades else "-"),
            ("win rate", "-" if rate is None else f"{rate:.1f} % ({self.wins} of {self.trades})"),
            ("fees", self._fees()),
        ]


def equity_from_guard(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The account's equity as the guard saw it (its `equity` detail), in time order."""
    points = []
    for event in events:
        value = decimal((event.get("details") or {}).get("equity"))
        if value is not None and isinstance(event.get("ts"), str):
            points.append({"ts": event["ts"], "equity": float(value)})
    return sorted(points, key=lambda point: point["ts"])
