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

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import numpy as np

from tradekit import jsonio
from tradekit.exchange.markets import DEFAULT_MARKETS, places
from tradekit.exchange.model import MarketSpec
from tradekit.market.candles import timeframe_ms
from tradekit.market.store import CandleStore

GRANULARITY = {
    "1m": "1m", "3m": "3m", "5m": "5m", "15m": "15m", "30m": "30m",
    "1H": "1h", "2H": "2h", "4H": "4h", "6H": "6h", "12H": "12h",
    "1D": "1d", "1Dutc": "1d", "1W": "1w", "1Wutc": "1w",
}  # fmt: skip
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


class ApiError(Exception):
    """An answer in Bitget's error shape."""

    def __init__(self, status: int, code: str, msg: str):
        super().__init__(msg)
        self.status, self.code, self.msg = status, code, msg


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


Handler = Callable[[Request], Any]


def _number(value: float) -> str:
    return repr(float(value)) if value != int(value) else str(int(value))


@dataclass
class Emulator:
    """The emulated exchange. `clock` returns epoch ms (the real time by default)."""

    store: CandleStore
    markets: dict[str, MarketSpec] = field(default_factory=lambda: dict(DEFAULT_MARKETS))
    clock: Callable[[], int] = field(default=lambda: int(time.time() * 1000))
    requests: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.routes: dict[tuple[str, str], Handler] = {
            ("GET", "/api/v2/mix/market/contracts"): self.contracts_endpoint,
            ("GET", "/api/v2/mix/market/candles"): self.candles_endpoint,
            ("GET", "/api/v2/mix/market/history-candles"): self.history_candles_endpoint,
            ("GET", "/api/v2/mix/market/ticker"): self.ticker_endpoint,
            ("GET", "/api/v2/public/time"): lambda _r: {"serverTime": str(self.clock())},
            ("GET", "/api/v3/account/settings"): self.uta_probe,
        }
        self._lock = threading.Lock()

    # -- dispatch ------------------------------------------------------------------------

    def handle(self, request: Request) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.requests.append(f"{request.method} {request.path}")
        route = self.routes.get((request.method, request.path))
        try:
            if route is None:
                raise ApiError(404, "40404", "Request URL NOT FOUND")
            data = route(request)
        except ApiError as exc:
            return exc.status, {
                "code": exc.code,
                "msg": exc.msg,
                "requestTime": self.clock(),
                "data": None,
            }
        return 200, {"code": "00000", "msg": "success", "requestTime": self.clock(), "data": data}

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
        now = self.clock()
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
        contract = self._contract(request)
        for timeframe in ("1m", "5m", "15m", "1h", "4h", "1d"):
            candles = self.store.load(contract.symbol, timeframe)
            if candles is not None and len(candles):
                row = candles.between(until=self.clock()).rows[-1].tolist()
                last = _number(row[4])
                return [{
                    "symbol": contract.symbol, "lastPr": last, "bidPr": last, "askPr": last,
                    "bidSz": "1", "askSz": "1", "high24h": _number(row[2]),
                    "low24h": _number(row[3]), "open24h": _number(row[1]), "change24h": "0",
                    "baseVolume": _number(row[5]), "quoteVolume": _number(row[5] * row[4]),
                    "ts": str(self.clock()), "indexPrice": last, "markPrice": last,
                }]  # fmt: skip
        raise ApiError(400, "40034", f"no market data for {contract.symbol}")

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
        length = int(self.headers.get("Content-Length") or 0)
        request = Request(
            method=self.command,
            path=parts.path,
            query=dict(parse_qsl(parts.query, keep_blank_values=True)),
            headers={key: value for key, value in self.headers.items()},
            body=self.rfile.read(length) if length else b"",
        )
        status, payload = self.emulator.handle(request)
        data = jsonio.dumps(payload)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = _serve
    do_POST = _serve

    def log_message(self, format: str, *args: Any) -> None:
        return  # requests are recorded in Emulator.requests


class EmulatorServer:
    """A running emulator; `url` is what ccxt's urls['api'] entries point at."""

    def __init__(self, emulator: Emulator, host: str, port: int):
        handler = type("Handler", (_HttpHandler,), {"emulator": emulator})
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        self.emulator = emulator
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> EmulatorServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()
