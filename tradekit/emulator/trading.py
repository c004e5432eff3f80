"""The emulator's private side: Bitget v2 trading endpoints over the matching engine, with
HMAC verification and fault switches.

Signatures are checked as Bitget does (reference/ccxt-bitget.md §3): base64 HMAC-SHA256 of
timestamp + METHOD + path + ("?" + decoded query for GET | raw body for POST), with the
key, passphrase and a timestamp within 30 s. Faults (delay, HTTP 429/5xx, a Bitget error
code, a partial fill, or acting and then dropping the response) are armed per path and
count down, from a test (`Emulator.faults`) or over HTTP (POST /_emulator/faults).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from tradekit.exchange.engine import Engine
from tradekit.exchange.model import Fill, Order, Position, Rejection

TIMESTAMP_WINDOW_MS = 30_000
PLAN_TYPES = {"normal_plan": "plan", "pos_loss": "pos_loss", "pos_profit": "pos_profit",
              "loss_plan": "pos_loss", "profit_plan": "pos_profit"}  # fmt: skip


class ApiError(Exception):
    def __init__(self, status: int, code: str, msg: str):
        super().__init__(msg)
        self.status, self.code, self.msg = status, code, msg


def reject(rejection: Rejection, status: int = 400) -> ApiError:
    return ApiError(status, rejection.code, rejection.message)


@dataclass
class Fault:
    """One armed fault. `path` None matches every private call."""

    kind: str  # delay | http | code | partial_fill | drop_response
    path: str | None = None
    times: int = 1
    delay_ms: int = 0
    status: int = 500
    text: bool = False  # HTTP fault with a plain-text body instead of Bitget JSON
    code: str = ""
    msg: str = ""
    ratio: Decimal = Decimal("0.5")


@dataclass
class Faults:
    armed: list[Fault] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def arm(self, fault: Fault) -> None:
        with self._lock:
            self.armed.append(fault)

    def clear(self) -> None:
        with self._lock:
            self.armed.clear()

    def take(self, path: str, kinds: tuple[str, ...]) -> Fault | None:
        with self._lock:
            for fault in self.armed:
                if fault.kind in kinds and fault.path in (None, path) and fault.times > 0:
                    fault.times -= 1
                    if fault.times == 0:
                        self.armed.remove(fault)
                    return fault
        return None


def verify_signature(
    method: str,
    path: str,
    *,
    raw_query: str,
    body: bytes,
    headers: dict[str, str],
    credentials: dict[str, tuple[str, str]],
    now_ms: int,
) -> None:
    lower = {key.lower(): value for key, value in headers.items()}
    key = lower.get("access-key", "")
    if key not in credentials:
        raise ApiError(400, "40006", "Invalid ACCESS_KEY")
    secret, passphrase = credentials[key]
    if lower.get("access-passphrase") != passphrase:
        raise ApiError(400, "40012", "apikey/password is incorrect")
    stamp = lower.get("access-timestamp", "")
    if not (stamp.isascii() and stamp.isdigit()) or abs(now_ms - int(stamp)) > TIMESTAMP_WINDOW_MS:
        raise ApiError(400, "40008", "Request timestamp expired")
    from urllib.parse import parse_qsl

    if method == "GET":
        decoded = "&".join(f"{k}={v}" for k, v in parse_qsl(raw_query, keep_blank_values=True))
        prehash = f"{stamp}GET{path}" + (f"?{decoded}" if decoded else "")
        message = prehash.encode()
    else:
        message = f"{stamp}{method}{path}".encode() + body
    expected = base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest())
    if not hmac.compare_digest(expected, lower.get("access-sign", "").encode("utf-8")):
        raise ApiError(400, "40009", "sign signature error")


# -- JSON shapes -----------------------------------------------------------------------------


def _s(value: Decimal | int | None) -> str:
    if value is None:
        return ""
    return format(value.normalize(), "f") if isinstance(value, Decimal) else str(value)


def order_json(order: Order, engine: Engine) -> dict[str, Any]:
    settings = engine.settings(order.symbol)
    hedge = engine.state.position_mode == "hedge_mode"
    status = {
        "live": "live",
        "partially_filled": "partially_filled",
        "filled": "filled",
        "canceled": "canceled",
        "rejected": "canceled",
        "triggered": "filled",
    }[order.status]
    quote = order.filled * order.average if order.average is not None else Decimal(0)
    return {
        "symbol": order.symbol, "size": _s(order.size), "orderId": order.id,
        "clientOid": order.client_oid, "baseVolume": _s(order.filled), "fee": _s(-order.fee),
        "price": _s(order.price), "priceAvg": _s(order.average), "state": status,
        "status": status, "side": order.side, "force": "gtc", "totalProfits": "0",
        "posSide": order.position_side if hedge else "net", "marginCoin": "USDT",
        "quoteVolume": _s(quote), "leverage": str(settings.leverage),
        "marginMode": "crossed" if settings.margin_mode == "crossed" else "isolated",
        "enterPointSource": "API",
        "tradeSide": "close" if order.reduce_only else "open",
        "posMode": engine.state.position_mode, "orderType": order.type,
        "orderSource": "normal", "presetStopSurplusPrice": "", "presetStopLossPrice": "",
        "reduceOnly": "YES" if order.reduce_only else "NO",
        "cTime": str(order.created), "uTime": str(order.updated),
    }  # fmt: skip


def plan_json(order: Order, engine: Engine) -> dict[str, Any]:
    base = order_json(order, engine)
    plan_status = {
        "live": "live",
        "partially_filled": "live",
        "filled": "executed",
        "triggered": "executed",
        "canceled": "cancelled",
        "rejected": "fail_trigger",
    }[order.status]
    plan_type = "normal_plan" if order.plan_type == "plan" else order.plan_type
    base.pop("state")
    base.update({
        "planType": plan_type, "triggerPrice": _s(order.trigger_price),
        "triggerType": order.trigger_type, "executePrice": _s(order.price) or "0",
        "callbackRatio": "", "planStatus": plan_status, "status": plan_status,
        "stopSurplusTriggerPrice": "", "stopSurplusExecutePrice": "",
        "stopLossTriggerPrice": "", "stopLossExecutePrice": "",
        "stopSurplusTriggerType": "", "stopLossTriggerType": "",
    })  # fmt: skip
    return base


def position_json(position: Position, engine: Engine) -> dict[str, Any]:
    mark = engine.state.prices[position.symbol].mark
    spec = engine.markets[position.symbol]
    return {
        "symbol": position.symbol, "marginCoin": "USDT", "holdSide": position.side,
        "openDelegateSize": "0", "marginSize": _s(position.margin), "available": _s(position.size),
        "locked": "0", "total": _s(position.size), "leverage": str(position.leverage),
        "achievedProfits": _s(position.realized), "openPriceAvg": _s(position.entry_price),
        "marginMode": position.margin_mode, "posMode": engine.state.position_mode,
        "unrealizedPL": _s(position.unrealized(mark)),
        "liquidationPrice": _s(spec.price(position.liquidation_price(spec))),
        "keepMarginRate": _s(spec.maintenance_margin), "markPrice": _s(mark),
        "marginRatio": "0", "cTime": str(position.opened),
    }  # fmt: skip


def fill_json(fill: Fill, engine: Engine) -> dict[str, Any]:
    side = fill.side
    if engine.state.position_mode == "hedge_mode" and fill.trade_side == "close":
        side = "buy" if fill.position_side == "long" else "sell"  # Bitget names the position
    return {
        "tradeId": fill.trade_id, "symbol": fill.symbol, "orderId": fill.order_id,
        "price": _s(fill.price), "baseVolume": _s(fill.size),
        "quoteVolume": _s(fill.price * fill.size), "side": side,
        "tradeSide": fill.trade_side, "posMode": engine.state.position_mode,
        "tradeScope": "maker" if fill.maker else "taker", "profit": _s(fill.profit),
        "cTime": str(fill.ts),
        "feeDetail": [{"deduction": "no", "feeCoin": "USDT", "totalDeductionFee": None,
                       "totalFee": _s(-fill.fee)}],
    }  # fmt: skip


# -- request helpers -------------------------------------------------------------------------


def body_json(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ApiError(400, "40017", "Parameter verification failed: body is not JSON") from None
    if not isinstance(data, dict):
        raise ApiError(400, "40017", "Parameter verification failed")
    return data


def decimal_field(data: dict[str, Any], name: str, *, required: bool = True) -> Decimal | None:
    value = data.get(name)
    if value in (None, ""):
        if required:
            raise ApiError(400, "40019", f"Parameter {name} cannot be empty")
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ApiError(400, "40020", f"Parameter {name} error") from None
    if not number.is_finite():
        raise ApiError(400, "40020", f"Parameter {name} error")
    return number


# -- the endpoints ---------------------------------------------------------------------------


class TradingApi:
    """Bitget's private USDT-M endpoints over one engine (the emulator serialises calls)."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.now = 0  # set by the emulator before each call (epoch ms)
        self.ratio = Decimal(1)  # < 1 while a partial-fill fault is armed

    def routes(self) -> dict[tuple[str, str], Any]:
        mix = "/api/v2/mix"
        return {
            ("GET", f"{mix}/account/accounts"): self.accounts,
            ("GET", f"{mix}/position/all-position"): self.all_positions,
            ("GET", f"{mix}/position/single-position"): self.single_position,
            ("POST", f"{mix}/account/set-leverage"): self.set_leverage,
            ("POST", f"{mix}/account/set-margin-mode"): self.set_margin_mode,
            ("POST", f"{mix}/account/set-position-mode"): self.set_position_mode,
            ("POST", f"{mix}/order/place-order"): self.place_order,
            ("POST", f"{mix}/order/place-plan-order"): self.place_plan_order,
            ("POST", f"{mix}/order/place-tpsl-order"): self.place_tpsl_order,
            ("POST", f"{mix}/order/cancel-order"): self.cancel_order,
            ("POST", f"{mix}/order/cancel-plan-order"): self.cancel_plan_order,
            ("GET", f"{mix}/order/detail"): self.detail,
            ("GET", f"{mix}/order/orders-pending"): self.orders_pending,
            ("GET", f"{mix}/order/orders-plan-pending"): self.plan_pending,
            ("GET", f"{mix}/order/orders-history"): self.orders_history,
            ("GET", f"{mix}/order/orders-plan-history"): self.plan_history,
            ("GET", f"{mix}/order/fills"): self.fills,
            ("POST", f"{mix}/order/close-positions"): self.close_positions,
        }

    # account and positions

    def accounts(self, _req: Any) -> list[dict[str, Any]]:
        e = self.engine
        available = _s(max(e.available(), Decimal(0)))
        return [{
            "marginCoin": "USDT", "locked": "0", "available": available,
            "crossedMaxAvailable": available, "isolatedMaxAvailable": available,
            "maxTransferOut": available, "accountEquity": _s(e.equity()),
            "usdtEquity": _s(e.equity()), "btcEquity": "0", "crossedRiskRate": "0",
            "unrealizedPL": _s(e.unrealized()), "coupon": "0",
        }]  # fmt: skip

    def all_positions(self, _req: Any) -> list[dict[str, Any]]:
        return [position_json(p, self.engine) for p in self.engine.state.positions.values()]

    def single_position(self, req: Any) -> list[dict[str, Any]]:
        symbol = req.query.get("symbol")
        return [
            position_json(p, self.engine)
            for p in self.engine.state.positions.values()
            if p.symbol == symbol
        ]

    def set_leverage(self, req: Any) -> dict[str, Any]:
        data = body_json(req.body)
        symbol = str(data.get("symbol", ""))
        leverage = decimal_field(data, "leverage")
        assert leverage is not None
        refused = self.engine.set_leverage(symbol, int(leverage))
        if refused:
            raise reject(refused)
        settings = self.engine.settings(symbol)
        return {
            "symbol": symbol,
            "marginCoin": "USDT",
            "longLeverage": str(settings.leverage),
            "shortLeverage": str(settings.leverage),
            "crossMarginLeverage": str(settings.leverage),
            "marginMode": settings.margin_mode,
        }

    def set_margin_mode(self, req: Any) -> dict[str, Any]:
        data = body_json(req.body)
        symbol = str(data.get("symbol", ""))
        refused = self.engine.set_margin_mode(symbol, str(data.get("marginMode", "")))
        if refused:
            raise reject(refused)
        settings = self.engine.settings(symbol)
        return {
            "symbol": symbol,
            "marginCoin": "USDT",
            "longLeverage": str(settings.leverage),
            "shortLeverage": str(settings.leverage),
            "marginMode": settings.margin_mode,
        }

    def set_position_mode(self, req: Any) -> dict[str, Any]:
        data = body_json(req.body)
        refused = self.engine.set_position_mode(data.get("posMode", ""))
        if refused:
            raise reject(refused)
        return {"posMode": self.engine.state.position_mode}

    # orders

    def _place(self, data: dict[str, Any], **extra: Any) -> Order:
        size = decimal_field(
            data, "size", required=extra.get("plan_type") not in ("pos_loss", "pos_profit")
        )
        trade_side = data.get("tradeSide")
        result = self.engine.place(
            str(data.get("symbol", "")),
            str(data.get("side", "")),  # type: ignore[arg-type]
            size or Decimal(0),
            self.now,
            type=str(data.get("orderType", "market")),  # type: ignore[arg-type]
            price=decimal_field(data, "price", required=False),
            reduce_only=str(data.get("reduceOnly", "NO")).upper() == "YES",
            client_oid=data.get("clientOid") or None,
            trade_side=str(trade_side).lower() if trade_side else None,
            fill_ratio=self.ratio,
            **extra,
        )
        if isinstance(result, Rejection):
            raise reject(result)
        return result

    def place_order(self, req: Any) -> dict[str, str]:
        data = body_json(req.body)
        # Presets: the engine attaches them to the position when the entry fills.
        order = self._place(
            data,
            preset_sl=decimal_field(data, "presetStopLossPrice", required=False),
            preset_tp=decimal_field(data, "presetStopSurplusPrice", required=False),
        )
        return {"orderId": order.id, "clientOid": order.client_oid}

    def place_plan_order(self, req: Any) -> dict[str, str]:
        data = body_json(req.body)
        plan = PLAN_TYPES.get(str(data.get("planType", "normal_plan")))
        if plan != "plan":
            raise ApiError(400, "40020", f"Parameter planType {data.get('planType')} error")
        if data.get("executePrice") not in (None, "", "0") and "price" not in data:
            data["price"] = data["executePrice"]
        order = self._place(
            data,
            plan_type="plan",
            trigger_price=decimal_field(data, "triggerPrice"),
            trigger_type=str(data.get("triggerType", "mark_price")),
        )
        return {"orderId": order.id, "clientOid": order.client_oid}

    def place_tpsl_order(self, req: Any) -> dict[str, str]:
        data = body_json(req.body)
        plan = PLAN_TYPES.get(str(data.get("planType", "")))
        if plan not in ("pos_loss", "pos_profit"):
            raise ApiError(400, "40020", f"Parameter planType {data.get('planType')} error")
        hold = str(data.get("holdSide", ""))
        hold_side = {"buy": "long", "long": "long", "sell": "short", "short": "short"}.get(hold)
        if hold_side is None:
            raise ApiError(400, "40019", "Parameter holdSide cannot be empty")
        data["side"] = "sell" if hold_side == "long" else "buy"
        data.pop("tradeSide", None)
        data.pop("price", None)
        order = self._place(
            data,
            plan_type=plan,
            hold_side=hold_side,
            trigger_price=decimal_field(data, "triggerPrice"),
            trigger_type=str(data.get("triggerType", "mark_price")),
        )
        return {"orderId": order.id, "clientOid": order.client_oid}

    def cancel_order(self, req: Any) -> dict[str, str]:
        data = body_json(req.body)
        found = self.engine.find(data.get("orderId"), data.get("clientOid"))
        if found is None or found.symbol != data.get("symbol") or found.plan_type != "normal":
            raise ApiError(400, "40768", "Order does not exist")
        result = self.engine.cancel(found.id, None, self.now)
        if isinstance(result, Rejection):
            raise reject(result)
        return {"orderId": result.id, "clientOid": result.client_oid}

    def cancel_plan_order(self, req: Any) -> dict[str, Any]:
        data = body_json(req.body)
        targets = data.get("orderIdList") or []
        if not targets:  # all plan orders of the symbol
            targets = [
                {"orderId": o.id}
                for o in self.engine.state.orders.values()
                if o.open and o.plan_type != "normal" and o.symbol == data.get("symbol")
            ]
        success, failure = [], []
        for target in targets:
            result = self.engine.cancel(target.get("orderId"), target.get("clientOid"), self.now)
            if isinstance(result, Rejection):
                failure.append({**target, "errorMsg": result.message, "errorCode": result.code})
            else:
                success.append({"orderId": result.id, "clientOid": result.client_oid})
        return {"successList": success, "failureList": failure}

    def detail(self, req: Any) -> dict[str, Any] | None:
        order = self.engine.find(req.query.get("orderId"), req.query.get("clientOid"))
        if order is None or order.plan_type != "normal":
            raise ApiError(400, "40109", "The data of the order cannot be found")
        return order_json(order, self.engine)

    def _orders(self, req: Any, *, plan: bool, open_: bool) -> dict[str, Any]:
        symbol = req.query.get("symbol")
        wanted = req.query.get("planType", "normal_plan")
        kinds = {
            "normal_plan": ("plan",),
            "profit_loss": ("pos_loss", "pos_profit"),
            "pos_loss": ("pos_loss",),
            "pos_profit": ("pos_profit",),
        }.get(wanted, ())
        rows = [
            (plan_json if plan else order_json)(o, self.engine)
            for o in self.engine.state.orders.values()
            if (symbol in (None, o.symbol))
            and o.open == open_
            and ((o.plan_type in kinds) if plan else o.plan_type == "normal")
        ]
        return {"entrustedList": rows or None, "endId": rows[-1]["orderId"] if rows else None}

    def orders_pending(self, req: Any) -> dict[str, Any]:
        return self._orders(req, plan=False, open_=True)

    def plan_pending(self, req: Any) -> dict[str, Any]:
        return self._orders(req, plan=True, open_=True)

    def orders_history(self, req: Any) -> dict[str, Any]:
        return self._orders(req, plan=False, open_=False)

    def plan_history(self, req: Any) -> dict[str, Any]:
        return self._orders(req, plan=True, open_=False)

    def fills(self, req: Any) -> dict[str, Any]:
        symbol = req.query.get("symbol")
        since = int(req.query.get("startTime") or 0)
        rows = [
            fill_json(f, self.engine)
            for f in self.engine.state.fills
            if symbol in (None, f.symbol) and f.ts >= since
        ]
        limit = int(req.query.get("limit") or 100)
        rows = rows[-limit:]
        return {"fillList": rows, "endId": rows[-1]["tradeId"] if rows else None}

    def close_positions(self, req: Any) -> dict[str, Any]:
        data = body_json(req.body)
        hold = data.get("holdSide")
        result = self.engine.close_position(str(data.get("symbol", "")), self.now, hold)
        if isinstance(result, Rejection):
            raise reject(result)
        return {
            "successList": [{"orderId": o.id, "clientOid": o.client_oid} for o in result],
            "failureList": [],
            "result": True,
        }
