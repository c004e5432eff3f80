"""The engine's AccountState to and from plain JSON (Decimals stay exact), so the paper
account can live in one SQLite row that every run reads and writes in one transaction."""

from __future__ import annotations

from dataclasses import asdict, fields
from decimal import Decimal
from typing import Any

from tradekit.exchange.model import AccountState, Fill, Order, Position, Prices, SymbolSettings

STATE_VERSION = 1


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _decimals(cls: type, data: dict[str, Any]) -> dict[str, Any]:
    out = dict(data)
    for f in fields(cls):
        if f.name in out and "Decimal" in str(f.type) and out[f.name] is not None:
            out[f.name] = _dec(out[f.name])
    return out


def dump(state: AccountState) -> dict[str, Any]:
    return {
        "version": STATE_VERSION,
        "balance": state.balance,
        "positionMode": state.position_mode,
        "settings": {symbol: asdict(s) for symbol, s in state.settings.items()},
        "orders": [asdict(order) for order in state.orders.values()],
        "positions": [asdict(position) for position in state.positions.values()],
        "fills": [asdict(fill) for fill in state.fills],
        "prices": {symbol: asdict(p) for symbol, p in state.prices.items()},
        "synced": state.synced,
        "nextId": state.next_id,
    }


def load(data: dict[str, Any]) -> AccountState:
    if data.get("version") != STATE_VERSION:
        raise ValueError(f"paper account state version {data.get('version')} is not supported")
    orders = [Order(**_decimals(Order, o)) for o in data["orders"]]
    positions = [Position(**_decimals(Position, p)) for p in data["positions"]]
    return AccountState(
        balance=Decimal(str(data["balance"])),
        position_mode=data["positionMode"],
        settings={s: SymbolSettings(**v) for s, v in data["settings"].items()},
        orders={order.id: order for order in orders},
        positions={(p.symbol, p.side): p for p in positions},
        fills=[Fill(**_decimals(Fill, f)) for f in data["fills"]],
        prices={s: Prices(**_decimals(Prices, p)) for s, p in data["prices"].items()},
        synced={s: int(v) for s, v in data["synced"].items()},
        next_id=int(data["nextId"]),
    )
