"""The orders a plan becomes: pure, so dry-run, paper, live and the tests plan the same way."""

from __future__ import annotations

from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any, Literal

from tradekit.exchange.model import MarketSpec
from tradekit.execution.ledger import client_oid
from tradekit.execution.settings import ExecutionSettings
from tradekit.records import TradePlan

Kind = Literal["order", "sl", "tp"]


@dataclass
class Planned:
    """One order of a bundle and, once sent, what the exchange made of it."""

    role: str  # entry, sl, tp1, tp2, ..., reduce, close
    client_oid: str
    kind: Kind
    side: str  # buy | sell (the trade)
    size: Decimal | None  # None: the entry's filled size (times `weight` for take-profits)
    price: Decimal | None = None  # a limit price
    trigger: Decimal | None = None  # a stop-loss / take-profit trigger
    reduce_only: bool = False
    weight: Decimal | None = None
    #: a stop-loss attached to an entry (Bitget preset), armed by the exchange on the fill
    attached_stop: Decimal | None = None
    # filled in as it goes
    exchange_id: str | None = None
    state: str = "planned"  # planned | open | closed | canceled | rejected | skipped
    filled: Decimal | None = None
    average: Decimal | None = None
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        # not dataclasses.asdict: it deep-copies every value, ten times slower
        return {name: getattr(self, name) for name in _FIELDS}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Planned:
        values = dict(data)
        for name in ("size", "price", "trigger", "weight", "attached_stop", "filled", "average"):
            if values.get(name) is not None:
                values[name] = Decimal(str(values[name]))
        return cls(**values)


_FIELDS = tuple(f.name for f in fields(Planned))


def tp_weights(count: int, settings: ExecutionSettings) -> list[Decimal]:
    if count == 0:
        return []
    weights = settings.tp_weights.get(str(count))
    if weights and len(weights) == count:
        total = sum(weights, Decimal(0))
        return [w / total for w in weights]
    return [Decimal(1) / count] * count


def size_protection(orders: list[Planned], filled: Decimal, market: MarketSpec | None) -> None:
    """Size the stop-loss to the whole filled quantity and split it over the take-profits by
    their weights (the last one takes what rounding left). A take-profit below the market's
    minimum size is skipped, with the reason."""

    def rounded(value: Decimal) -> Decimal:
        return market.size(value) if market is not None else value

    take_profits = [o for o in orders if o.kind == "tp" and o.size is None]
    remaining = filled
    for order in orders:
        if order.size is not None:
            continue
        if order.kind == "sl":
            order.size = filled
        elif order.kind == "tp":
            share = rounded(filled * (order.weight or Decimal(1)))
            order.size = remaining if order is take_profits[-1] else min(share, remaining)
            remaining -= order.size
            if market is not None and order.size < market.min_size:
                order.state = "skipped"
                order.note = f"size {order.size} is below the minimum {market.min_size}"


def plan_open(record: TradePlan, key: str, settings: ExecutionSettings) -> list[Planned]:
    """Entry (market, or limit at the risk block's entry price for a limit plan), then the
    stop-loss and the take-profits, both sized from what the entry actually fills."""
    plan, risk = record.plan, record.risk
    assert plan is not None and risk is not None and risk.quantity is not None
    buy = plan.side == "long"
    close_side = "sell" if buy else "buy"
    limit = plan.entry is not None and plan.entry.type == "limit"
    orders = [
        Planned(
            "entry",
            client_oid(key, "entry"),
            "order",
            "buy" if buy else "sell",
            risk.quantity,
            price=risk.entry_price if limit else None,
            # a resting limit entry may fill while nobody watches: the exchange arms its stop
            attached_stop=risk.stop_loss if limit else None,
        )
    ]
    if risk.stop_loss is not None:
        orders.append(
            Planned(
                "sl",
                client_oid(key, "sl"),
                "sl",
                close_side,
                None,
                trigger=risk.stop_loss,
                reduce_only=True,
            )
        )
    take_profits = risk.take_profits or []
    for i, (tp, weight) in enumerate(
        zip(take_profits, tp_weights(len(take_profits), settings), strict=True), start=1
    ):
        orders.append(
            Planned(
                f"tp{i}",
                client_oid(key, f"tp{i}"),
                "tp",
                close_side,
                None,
                trigger=tp,
                reduce_only=True,
                weight=weight,
            )
        )
    return orders


def plan_manage(record: TradePlan, key: str) -> list[Planned]:
    """Manage actions: sizes and prices are read from the position when carried out."""
    plan = record.plan
    assert plan is not None
    action = plan.effective_action
    if action == "close":
        return [Planned("close", client_oid(key, "close"), "order", "", None, reduce_only=True)]
    if action == "reduce":
        return [
            Planned(
                "reduce",
                client_oid(key, "reduce"),
                "order",
                "",
                None,
                reduce_only=True,
                weight=(plan.reduce_pct or Decimal(0)) / 100,
            )
        ]
    if action == "move_sl_to_be":
        return [Planned("sl-be", client_oid(key, "sl-be"), "sl", "", None, reduce_only=True)]
    tps = plan.take_profits or []
    return [
        Planned(
            f"tp{i}",
            client_oid(key, f"tp{i}"),
            "tp",
            "",
            None,
            trigger=tp,
            reduce_only=True,
            weight=Decimal(1) / len(tps),
        )
        for i, tp in enumerate(tps, start=1)
    ]
