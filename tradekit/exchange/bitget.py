"""Bitget USDT-M perpetuals through ccxt. ccxt is imported only by this module, and this
module only by the commands that talk to the exchange.

The client is set up as reference/ccxt-bitget.md §0 says: swap by default, the classic
(non-UTA) account, swap markets only, no currency list; `[exchange] url` points every REST
section at a Bitget-compatible server (the emulator in tests).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import ccxt
import numpy as np

from tradekit.errors import (
    ConfigError,
    ExchangeUnavailableError,
    TradekitError,
    TryAgainLaterError,
    UsageError,
)
from tradekit.market.candles import DTYPE, timeframe_ms

PAGE = 200  # history-candles serves at most 200 bars per request


@dataclass(frozen=True)
class ExchangeSettings:
    url: str | None = None
    demo: bool = False
    rate_limit: bool = True
    timeout_ms: int = 10_000


def settings_of(config: Any) -> ExchangeSettings:
    """The client settings of an [exchange] config section."""
    return ExchangeSettings(config.url, config.demo, config.rate_limit, config.timeout_ms)


def translate(exc: Exception, what: str) -> TradekitError:
    """A ccxt exception as a tradekit error with the right exit status."""
    detail = f"{what}: {type(exc).__name__}: {str(exc)[:300]}"
    if isinstance(exc, ccxt.RateLimitExceeded | ccxt.DDoSProtection):
        return TryAgainLaterError(f"{detail} (rate limited; try again later)")
    if isinstance(exc, ccxt.AuthenticationError | ccxt.PermissionDenied):
        return ConfigError(f"{detail} (check BITGET_API_KEY/SECRET/PASSPHRASE)")
    if isinstance(exc, ccxt.BadSymbol):
        return UsageError(detail)
    return ExchangeUnavailableError(detail)


@functools.cache
def _bitget_class() -> Any:
    class Bitget(ccxt.bitget):  # type: ignore[misc, name-defined]
        """ccxt's Bitget, except that an HTTP 5xx is always "unavailable": ccxt reads a
        JSON error body first and would report a gateway's JSON 503 as a refusal, which
        says the order did not go through, when nobody knows whether it did."""

        def handle_errors(self, code: int, reason: str, *args: Any) -> Any:
            if isinstance(code, int) and code >= 500:
                body = str(args[3] if len(args) > 3 else "")[:200]
                raise ccxt.ExchangeNotAvailable(f"{self.id} HTTP {code} {reason} {body}")
            return super().handle_errors(code, reason, *args)

    return Bitget


def client(settings: ExchangeSettings, credentials: dict[str, str] | None = None) -> Any:
    config: dict[str, Any] = {
        "enableRateLimit": settings.rate_limit,
        "timeout": settings.timeout_ms,
        "options": {"defaultType": "swap", "uta": False, "fetchMarkets": {"types": ["swap"]}},
    }
    if credentials:
        config.update(credentials)
    exchange = _bitget_class()(config)
    exchange.has["fetchCurrencies"] = False
    if settings.url:
        exchange.urls["api"] = {key: settings.url.rstrip("/") for key in exchange.urls["api"]}
    if settings.demo:
        exchange.set_sandbox_mode(True)
    return exchange


def ws_client(settings: ExchangeSettings, ws_url: str | None) -> Any:
    """ccxt.pro's Bitget for public streams (no credentials), with REST (its markets) at
    `settings.url` and the public websocket at `ws_url` when given."""
    import ccxt.pro

    config: dict[str, Any] = {
        "enableRateLimit": settings.rate_limit,
        "timeout": settings.timeout_ms,
        "options": {"defaultType": "swap", "uta": False, "fetchMarkets": {"types": ["swap"]}},
    }
    exchange = ccxt.pro.bitget(config)
    exchange.has["fetchCurrencies"] = False
    api = exchange.urls["api"]
    if settings.url:
        for key, value in api.items():
            if isinstance(value, str):
                api[key] = settings.url.rstrip("/")
    if settings.demo:
        exchange.set_sandbox_mode(True)
    if ws_url:
        api["ws"] = {**api["ws"], "public": ws_url}
        api["demo"] = {**api.get("demo", {}), "public": ws_url}
    return exchange


def market_symbol(exchange: Any, symbol: str) -> str:
    """BTCUSDT -> BTC/USDT:USDT (the USDT-margined perpetual)."""
    try:
        markets = exchange.load_markets()
    except Exception as exc:
        raise translate(exc, "loading markets") from None
    for market in markets.values():
        if market.get("id") == symbol and market.get("swap") and market.get("settle") == "USDT":
            return market["symbol"]
    raise UsageError(f"{symbol} is not a USDT-margined perpetual on Bitget")


def fetch_candles(
    exchange: Any,
    symbol: str,
    timeframe: str,
    *,
    since_ms: int,
    until_ms: int,
    on_page: Callable[[np.ndarray, int], None],
) -> int:
    """Fetch closed bars with since_ms <= ts and ts + step <= until_ms, page by page.
    Each page is handed to `on_page(rows, cursor)` at once, so an interrupted fetch keeps
    what it got. Returns the number of bars fetched."""
    step = timeframe_ms(timeframe)
    pair = market_symbol(exchange, symbol)
    cursor, total = since_ms - since_ms % step, 0
    while cursor + step <= until_ms:
        try:
            batch = exchange.fetch_ohlcv(pair, timeframe, since=cursor, limit=PAGE)
        except Exception as exc:
            raise translate(exc, f"fetching {symbol} {timeframe} candles") from None
        rows = np.array(
            [tuple(bar[:6]) for bar in batch if bar[0] >= cursor and bar[0] + step <= until_ms],
            dtype=DTYPE,
        )
        if len(rows) == 0:
            cursor += PAGE * step  # nothing here (before listing, or a hole): move on
            on_page(rows, cursor)
            continue
        total += len(rows)
        cursor = int(rows["ts"][-1]) + step
        on_page(rows, cursor)
    return total
