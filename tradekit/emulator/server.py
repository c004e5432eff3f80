"""The emulator's HTTP side: Bitget's envelope, routing, and a threaded server that binds
127.0.0.1. Market data comes from a CandleStore (the same .npy files tk data writes).

Served so far (what ccxt calls for market data, per reference/ccxt-bitget.md):
    GET /api/v2/mix/market/contracts       the six product types load_markets asks for
    GET /api/v2/mix/market/candles         and history-candles (limit <= 200)
    GET /api/v2/mix/market/ticker          from the last stored 1m..1d bar
    GET /api/v2/public/time
    GET /api/v3/account/settings           refused (40084): a classic, non-UTA account
Anything else is 404 with Bitget's 40404, so ccxt never mistakes it for a success.
"""

from __future__ import annotations

import hmac
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from decimal import Decimal
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import numpy as np

from tradekit import jsonio
from tradekit.emulator.trading import (
    ApiError,
    Fault,
    Faults,
    TradingApi,
    body_json,
    decimal_field,
    verify_signature,
)
from tradekit.errors import UsageError
from tradekit.exchange.engine import Engine
from tradekit.exchange.markets import DEFAULT_MARKETS, places
from tradekit.exchange.model import AccountState, MarketSpec, Prices
from tradekit.exchange.paper import advance_prices, price_time
from tradekit.httpserver import BackgroundHttpServer
from tradekit.market.candles import timeframe_ms
from tradekit.market.store import CandleStore

GRANULARITY = {
    "1m": "1m", "3m": "3m", "5m": "5m", "15m": "15m", "30m": "30m",
    "1H": "1h", "2H": "2h", "4H": "4h", "6H": "6h", "12H": "12h",
    "1D": "1d", "1Dutc": "1d", "1W": "1w", "1Wutc": "1w",
}  # fmt: skip
FAULT_KINDS = ("delay", "http", "code", "partial_fill", "drop_response")
PRODUCT_TYPES = (
    "USDT-FUTURES", "COIN-FUTURES", "USDC-FUTURES", "SUSDT-FUTURES", "SCOIN-FUTURES",
    "SUSDC-FUTURES",
)  # fmt: skip


def contract_json(spec: MarketSpec) -> dict[str, Any]:
    """A market as Bitget's /mix/market/contracts lists it."""
    volume_place = places(spec.size_step)
    return {
        "symbol": spec.symbol, "baseCoin": spec.base, "quoteCoin": "USDT",
        "supportMarginCoins": ["USDT"], "symbolType": "perpetual",
        "pricePlace": str(places(spec.price_tick)), "priceEndStep": "1",
        "volumePlace": str(volume_place), "sizeMultiplier": str(spec.size_step),
        "minTradeNum": str(spec.min_size), "minTradeUSDT": str(spec.min_notional),
        "symbolStatus": "normal", "makerFeeRate": str(spec.maker_fee),
        "takerFeeRate": str(spec.taker_fee), "minLever": "1",
        "maxLever": str(spec.max_leverage), "launchTime": "",
    }  # fmt: skip


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    raw_query: str = ""


#: The emulator's test account (what tests and `tk emulator` users put in BITGET_API_*).
TEST_CREDENTIALS = {"tk-emulator-key": ("tk-emulator-secret", "tk-emulator-pass")}


class DropResponse(Exception):
    """The request was acted on; the connection is closed without an answer."""


Handler = Callable[[Request], Any]


def body_symbol(body: bytes) -> str | None:
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        return None
    return data.get("symbol") if isinstance(data, dict) else None


def _number(value: float) -> str:
    return repr(float(value)) if value != int(value) else str(int(value))


@dataclass
class Emulator:
    """The emulated exchange. `clock` returns epoch ms (the real time by default)."""

    store: CandleStore
    markets: dict[str, MarketSpec] = field(default_factory=lambda: dict(DEFAULT_MARKETS))
    clock: Callable[[], int] = field(default=lambda: int(time.time() * 1000))
    requests: list[str] = field(default_factory=list)
    #: every request as received (tests compare what ccxt sent)
    received: list[Request] = field(default_factory=list)
    credentials: dict[str, tuple[str, str]] = field(default_factory=lambda: dict(TEST_CREDENTIALS))
    balance: Decimal = Decimal(1000)
    slippage: Decimal = Decimal("0.0003")
    faults: Faults = field(default_factory=Faults)
    #: the time of the market (prices, fills); `clock` stays the wall clock that signed
    #: requests are checked against. None: the same as `clock`.
    market_clock: Callable[[], int] | None = None
    #: what POST /_emulator/* must carry in the X-Emulator-Token header (faults and prices
    #: move the account: nobody but who started it may do that); printed at start
    control_token: str = field(default_factory=lambda: secrets.token_urlsafe(18))

    def __post_init__(self) -> None:
        self.market_now = self.market_clock or self.clock
        self.engine = Engine(
            self.markets, AccountState(balance=self.balance), slippage=self.slippage
        )
        self.trading = TradingApi(self.engine)
        self.private = self.trading.routes()
        self.routes: dict[tuple[str, str], Handler] = {
            ("GET", "/api/v2/mix/market/contracts"): self.contracts_endpoint,
            ("GET", "/api/v2/mix/market/candles"): self.candles_endpoint,
            ("GET", "/api/v2/mix/market/history-candles"): self.history_candles_endpoint,
            ("GET", "/api/v2/mix/market/ticker"): self.ticker_endpoint,
            ("GET", "/api/v2/public/time"): lambda _r: {"serverTime": str(self.clock())},
            ("GET", "/api/v3/account/settings"): self.uta_probe,
        }
        self.control: dict[tuple[str, str], Handler] = {
            ("POST", "/_emulator/faults"): self.arm_fault,
            ("POST", "/_emulator/faults/clear"): lambda _r: self.faults.clear(),
            ("POST", "/_emulator/price"): self.set_price,
        }
        self._lock = threading.RLock()

    # -- dispatch ------------------------------------------------------------------------

    def handle(self, request: Request) -> tuple[int, dict[str, Any] | str]:
        """Answer one request: (HTTP status, Bitget JSON or a plain-text body)."""
        if (request.method, request.path) in self.private:
            delay = self.faults.take(request.path, ("delay",))
            if delay is not None:  # outside the lock: other requests go on meanwhile
                time.sleep(delay.delay_ms / 1000)
        with self._lock:
            self.requests.append(f"{request.method} {request.path}")
            self.received.append(request)
            try:
                if (request.method, request.path) in self.private:
                    return self._private(request)
                if (request.method, request.path) in self.control:
                    self._check_control_token(request)
                    return 200, self._ok(self.control[(request.method, request.path)](request))
                route = self.routes.get((request.method, request.path))
                if route is None:
                    raise ApiError(404, "40404", "Request URL NOT FOUND")
                return 200, self._ok(route(request))
            except ApiError as exc:
                return exc.status, self._error(exc.code, exc.msg)
            except (ValueError, TypeError, KeyError, AttributeError) as exc:
                # malformed input must be a Bitget error, never a dropped connection
                return 400, self._error("40017", f"Parameter verification failed: {exc}")

    def _check_control_token(self, request: Request) -> None:
        given = next((v for k, v in request.headers.items() if k.lower() == "x-emulator-token"), "")
        if not hmac.compare_digest(given.encode(), self.control_token.encode()):
            raise ApiError(
                401, "40001", "X-Emulator-Token missing or wrong (tk emulator prints it at start)"
            )

    def _error(self, code: str, msg: str) -> dict[str, Any]:
        return {"code": code, "msg": msg, "requestTime": self.clock(), "data": None}

    def _ok(self, data: Any) -> dict[str, Any]:
        return {"code": "00000", "msg": "success", "requestTime": self.clock(), "data": data}

    def _private(self, request: Request) -> tuple[int, dict[str, Any] | str]:
        now = self.clock()
        verify_signature(
            request.method,
            request.path,
            raw_query=request.raw_query,
            body=request.body,
            headers=request.headers,
            credentials=self.credentials,
            now_ms=now,
        )
        http = self.faults.take(request.path, ("http",))
        if http is not None:
            if http.text:
                return http.status, http.msg or "Too Many Requests"
            raise ApiError(http.status, http.code or str(http.status), http.msg or "error")
        code = self.faults.take(request.path, ("code",))
        if code is not None:
            raise ApiError(400, code.code, code.msg or "error")
        self._advance(request)
        partial = self.faults.take(request.path, ("partial_fill",))
        self.trading.now = self.market_now()
        self.trading.ratio = partial.ratio if partial else Decimal(1)
        data = self.private[(request.method, request.path)](request)
        if self.faults.take(request.path, ("drop_response",)) is not None:
            raise DropResponse
        return 200, self._ok(data)

    def _advance(self, request: Request) -> None:
        """Bring prices up to the clock for the symbols involved (from the candle store)."""
        symbols = {s for s, _ in self.engine.state.positions}
        symbols |= {o.symbol for o in self.engine.state.orders.values() if o.open}
        named = request.query.get("symbol") or body_symbol(request.body)
        if named in self.markets:
            symbols.add(named)
        for symbol in sorted(symbols):
            if not self.advance_symbol(symbol):
                raise ApiError(400, "40015", f"System is abnormal: no price for {symbol}")

    def advance_symbol(self, symbol: str) -> bool:
        """Bring one symbol's price up to the market clock; whether it has a price."""
        try:
            advance_prices(self.engine, self.store, symbol, self.market_now())
        except UsageError:
            return symbol in self.engine.state.prices
        return True

    def arm_fault(self, request: Request) -> dict[str, str]:
        data = body_json(request.body)
        known = {f.name for f in fields(Fault)}
        unknown = set(data) - known
        if unknown or data.get("kind") not in FAULT_KINDS:
            raise ApiError(400, "40017", f"bad fault {data} (kinds: {', '.join(FAULT_KINDS)})")
        try:  # typed now, so a bad value cannot break later requests
            fault = Fault(**data)
            fault.times, fault.delay_ms, fault.status = (
                int(fault.times),
                int(fault.delay_ms),
                int(fault.status),
            )
            fault.ratio = Decimal(str(fault.ratio))
            fault.text = bool(fault.text)
            fault.code, fault.msg = str(fault.code), str(fault.msg)
            if fault.path is not None:
                fault.path = str(fault.path)
        except (TypeError, ValueError, ArithmeticError) as exc:
            raise ApiError(400, "40017", f"bad fault {data}: {exc}") from None
        self.faults.arm(fault)
        return {"armed": data["kind"]}

    def set_price(self, request: Request) -> dict[str, str]:
        """Set a symbol's last and mark price by hand (scripted tests)."""
        data = body_json(request.body)
        symbol = str(data.get("symbol"))
        last = decimal_field(data, "last")
        mark = decimal_field(data, "mark", required=False) or last
        assert last is not None and mark is not None
        self.engine.update_price(symbol, Prices(last, mark), self.market_now())
        self.engine.state.synced[symbol] = self.market_now()
        return {"symbol": symbol, "last": str(last), "mark": str(mark)}

    # -- public market data --------------------------------------------------------------

    def contracts_endpoint(self, request: Request) -> list[dict[str, Any]]:
        if request.query.get("productType") != "USDT-FUTURES":
            return []
        return [contract_json(spec) for spec in self.markets.values()]

    def _contract(self, request: Request) -> MarketSpec:
        symbol = request.query.get("symbol", "")
        if symbol not in self.markets:
            raise ApiError(400, "40034", f"Parameter symbol {symbol!r} does not exist")
        return self.markets[symbol]

    def candles_endpoint(self, request: Request, *, max_limit: int = 1000) -> list[list[str]]:
        contract = self._contract(request)
        granularity = request.query.get("granularity", "")
        if granularity not in GRANULARITY:
            raise ApiError(400, "40020", f"Parameter granularity {granularity!r} is error")
        timeframe = GRANULARITY[granularity]
        try:
            candles = self.store.load_or_resample(contract.symbol, timeframe)
        except Exception:
            return []
        limit = min(int(request.query.get("limit", "100")), max_limit)
        now = self.market_now()
        end = int(request.query.get("endTime", now))
        start = int(request.query.get("startTime", end - limit * timeframe_ms(timeframe)))
        # endTime is exclusive: ccxt asks [since, since + limit x step) for `limit` bars.
        ts = candles.ts
        lo = np.searchsorted(ts, start, "left")
        hi = np.searchsorted(ts, min(end, now + 1), "left")
        rows = candles.rows[max(lo, hi - limit) : hi]  # the `limit` bars nearest endTime
        return [
            [
                str(int(row[0])),
                *(_number(value) for value in row[1:5]),
                _number(row[5]),
                _number(row[5] * row[4]),
            ]
            for row in rows.tolist()
        ]

    def history_candles_endpoint(self, request: Request) -> list[list[str]]:
        return self.candles_endpoint(request, max_limit=200)

    def ticker_endpoint(self, request: Request) -> list[dict[str, Any]]:
        spec = self._contract(request)
        self._advance(request)
        prices = self.engine.state.prices.get(spec.symbol)
        if prices is None:
            raise ApiError(400, "40034", f"no market data for {spec.symbol}")
        last, mark = _number(float(prices.last)), _number(float(prices.mark))
        return [{
            "symbol": spec.symbol, "lastPr": last, "bidPr": last, "askPr": last,
            "bidSz": "1", "askSz": "1", "high24h": last, "low24h": last, "open24h": last,
            "change24h": "0", "baseVolume": "0", "quoteVolume": "0",
            "ts": str(price_time(self.engine, self.store, spec.symbol, self.market_now())),
            "indexPrice": mark, "markPrice": mark,
        }]  # fmt: skip

    def uta_probe(self, _request: Request) -> Any:
        raise ApiError(400, "40084", "You are in classic account mode")

    # -- serving -------------------------------------------------------------------------

    def serve(self, host: str = "127.0.0.1", port: int = 0) -> EmulatorServer:
        return EmulatorServer(self, host, port)


class _HttpHandler(BaseHTTPRequestHandler):
    disable_nagle_algorithm = True  # without it every request waits ~40 ms (Nagle)
    protocol_version = "HTTP/1.1"
    emulator: Emulator

    def _serve(self) -> None:
        parts = urlsplit(self.path)
        try:
            length = max(0, int(self.headers.get("Content-Length") or 0))
        except ValueError:
            length = -1
        request = Request(
            method=self.command,
            path=parts.path,
            query=dict(parse_qsl(parts.query, keep_blank_values=True)),
            headers={key: value for key, value in self.headers.items()},
            body=self.rfile.read(length) if length > 0 else b"",
            raw_query=parts.query,
        )
        try:
            if length < 0:
                raise ApiError(400, "40017", "bad Content-Length")
            status, payload = self.emulator.handle(request)
        except ApiError as exc:
            status, payload = exc.status, self.emulator._error(exc.code, exc.msg)
        except DropResponse:
            self.close_connection = True  # acted on, never answered
            return
        text = isinstance(payload, str)
        data = payload.encode() if text else jsonio.dumps(payload)
        self.send_response(status)
        self.send_header("Content-Type", "text/plain" if text else "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = _serve
    do_POST = _serve

    def log_message(self, format: str, *args: Any) -> None:
        return  # requests are recorded in Emulator.requests


class EmulatorServer(BackgroundHttpServer):
    """A running emulator; `url` is what ccxt's urls['api'] entries point at."""

    def __init__(self, emulator: Emulator, host: str, port: int):
        handler = type("Handler", (_HttpHandler,), {"emulator": emulator})
        super().__init__(host, port, handler)
        self.emulator = emulator
