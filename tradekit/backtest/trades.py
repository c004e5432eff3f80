"""The trades of a paper account, read from its home's database the same way for a
backtest and for cron runs: the positions tk-guard recorded as closed (why, when), the
paper exchange's fills in their life (prices, sizes, fees, profit), and the ledger's
intent that opened each (the plan's cycleId)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tradekit import jsonio
from tradekit.clock import format_time
from tradekit.exchange import state as state_json
from tradekit.exchange.model import Fill
from tradekit.exchange.paper import ACCOUNT
from tradekit.store import Store


@dataclass(frozen=True)
class Trade:
    symbol: str
    side: str
    cycle_id: str | None
    entry_ms: int
    exit_ms: int
    entry_price: Decimal
    exit_price: Decimal
    size: Decimal
    fees: Decimal
    funding: Decimal
    gross: Decimal
    exit_reason: str

    @property
    def pnl(self) -> Decimal:
        """After fees and funding."""
        return self.gross - self.fees - self.funding

    @property
    def hold_ms(self) -> int:
        return self.exit_ms - self.entry_ms

    def to_json(self) -> dict[str, Any]:
        from datetime import UTC, datetime

        def iso(ms: int) -> str:
            return format_time(datetime.fromtimestamp(ms / 1000, UTC))

        return {
            "symbol": self.symbol,
            "side": self.side,
            "cycleId": self.cycle_id,
            "entryTime": iso(self.entry_ms),
            "exitTime": iso(self.exit_ms),
            "entryPrice": self.entry_price,
            "exitPrice": self.exit_price,
            "size": self.size,
            "fees": self.fees,
            "funding": self.funding,
            "grossPnl": self.gross,
            "pnl": self.pnl,
            "exitReason": self.exit_reason,
        }


def account_fills(store: Store) -> list[Fill]:
    row = store.db.execute("SELECT state FROM paper_accounts WHERE name=?", (ACCOUNT,)).fetchone()
    return [] if row is None else state_json.load(jsonio.loads(row[0])).fills


def paper_trades(
    store: Store, funding: dict[tuple[str, str, int], Decimal] | None = None
) -> list[Trade]:
    """Every position of the paper account that tk-guard saw closed, oldest first.
    `funding`: what each position paid, by (symbol, side, opened ms) (a backtest's)."""
    fills = account_fills(store)
    rows = store.db.execute(
        "SELECT g.id, g.symbol, g.side, g.opened_ms, g.closed_ms, g.close_reason, g.state, "
        "i.cycle_id FROM guard_positions g LEFT JOIN intents i "
        "ON i.key = json_extract(g.state, '$.intent_key') "
        "WHERE g.mode='paper' AND g.status='closed' ORDER BY g.opened_ms, g.id"
    ).fetchall()
    trades = []
    for _id, symbol, side, opened_ms, closed_ms, reason, _state, cycle_id in rows:
        mine = [
            f
            for f in fills
            if f.symbol == symbol and f.position_side == side and opened_ms <= f.ts <= closed_ms
        ]
        trade = _trade(symbol, side, cycle_id, mine, reason, funding or {})
        if trade is not None:
            trades.append(trade)
    return trades


def _vwap(fills: list[Fill]) -> Decimal:
    size = sum((f.size for f in fills), Decimal(0))
    return sum((f.price * f.size for f in fills), Decimal(0)) / size


def _trade(  # noqa: PLR0917 - the columns of one guard_positions row
    symbol: str,
    side: str,
    cycle_id: str | None,
    fills: list[Fill],
    reason: str,
    funding: dict[tuple[str, str, int], Decimal],
) -> Trade | None:
    opens = [f for f in fills if f.trade_side == "open"]
    closes = [f for f in fills if f.trade_side == "close"]
    if not opens or not closes:
        return None
    return Trade(
        symbol=symbol,
        side=side,
        cycle_id=cycle_id,
        entry_ms=opens[0].ts,
        exit_ms=closes[-1].ts,
        entry_price=_vwap(opens).quantize(opens[0].price),
        exit_price=_vwap(closes).quantize(closes[0].price),
        size=sum((f.size for f in opens), Decimal(0)),
        fees=sum((f.fee for f in fills), Decimal(0)),
        funding=funding.get((symbol, side, opens[0].ts), Decimal(0)),
        gross=sum((f.profit for f in fills), Decimal(0)),
        exit_reason=reason,
    )
