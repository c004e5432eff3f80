"""Live prices for tk-guard --watch: ccxt.pro's Bitget ticker stream, run in a background
thread with its own asyncio loop, handing each price to the watch loop through a queue.

A symbol's stream that fails (the connection dropped, a refused subscription) is retried
with a growing pause (reconnect_seconds, doubled up to a minute); while it is down the
feed reports itself degraded and the watch loop polls REST instead. A message that cannot
be read as a price is counted (the parse-error ratio of /readyz) and skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from tradekit.exchange.base import Ticker

MAX_BACKOFF_SECONDS = 60.0


@dataclass
class FeedStats:
    messages: int = 0
    parse_errors: int = 0
    reconnects: int = 0
    last_error: str | None = None
    #: symbol -> whether its stream is up (a price arrived since the last failure)
    up: dict[str, bool] = field(default_factory=dict)


def ticker_from_ccxt(raw: dict[str, Any]) -> Ticker:
    """A ccxt unified ticker as ours; ValueError when it carries no usable price."""
    info = raw.get("info") or {}
    try:
        last = Decimal(str(raw["last"]))
        mark_raw = info.get("markPrice") or raw["last"]
        mark = Decimal(str(mark_raw))
        ts = int(raw.get("timestamp") or info.get("ts"))
    except (KeyError, TypeError, ValueError, InvalidOperation) as exc:
        raise ValueError(f"unreadable ticker: {exc}") from None
    if not (last.is_finite() and last > 0 and mark.is_finite() and mark > 0):
        raise ValueError(f"unreadable ticker: price {last}/{mark}")
    return Ticker(last=last, mark=mark, ts_ms=ts)


class WsTickerFeed:
    """Streams the tickers of `symbols` into `out` as (symbol, Ticker)."""

    def __init__(
        self,
        make_client: Callable[[], Any],
        out: queue.Queue[tuple[str, Ticker]],
        *,
        reconnect_seconds: float,
        market_symbol: Callable[[str], str] = lambda s: f"{s[:-4]}/USDT:USDT",
    ):
        self.make_client = make_client
        self.out = out
        self.reconnect_seconds = reconnect_seconds
        self.market_symbol = market_symbol
        self.stats = FeedStats()
        self.lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._client: Any = None
        self._started = threading.Event()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="tk-guard-ws", daemon=True)

    # -- the watch loop's side -----------------------------------------------------------

    def start(self) -> WsTickerFeed:
        self._thread.start()
        self._started.wait(10)
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            with contextlib.suppress(RuntimeError):  # the loop already ended
                self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(5)

    def watch(self, symbols: set[str]) -> None:
        """Stream exactly these symbols from now on."""
        if self._loop is not None:
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._set_symbols, set(symbols))

    def is_up(self, symbol: str) -> bool:
        with self.lock:
            return self.stats.up.get(symbol, False)

    def snapshot(self) -> FeedStats:
        with self.lock:
            return FeedStats(
                self.stats.messages, self.stats.parse_errors, self.stats.reconnects,
                self.stats.last_error, dict(self.stats.up),
            )  # fmt: skip

    # -- the feed thread -----------------------------------------------------------------

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self._client = self.make_client()
        self._started.set()
        try:
            await self._stop.wait()
        finally:
            for task in self._tasks.values():
                task.cancel()
            await asyncio.gather(*self._tasks.values(), return_exceptions=True)
            with contextlib.suppress(Exception):
                await self._client.close()

    def _set_symbols(self, symbols: set[str]) -> None:
        for symbol in set(self._tasks) - symbols:
            self._tasks.pop(symbol).cancel()
            with self.lock:
                self.stats.up.pop(symbol, None)
        for symbol in symbols - set(self._tasks):
            self._tasks[symbol] = asyncio.ensure_future(self._stream(symbol))

    async def _stream(self, symbol: str) -> None:
        pause = self.reconnect_seconds
        pair = self.market_symbol(symbol)
        while True:
            try:
                raw = await self._client.watch_ticker(pair)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the stream is down: say so, wait, try again
                with self.lock:
                    self.stats.up[symbol] = False
                    self.stats.reconnects += 1
                    self.stats.last_error = f"{type(exc).__name__}: {str(exc)[:200]}"
                await asyncio.sleep(pause)
                pause = min(pause * 2, MAX_BACKOFF_SECONDS)
                continue
            pause = self.reconnect_seconds
            with self.lock:
                self.stats.messages += 1
            try:
                ticker = ticker_from_ccxt(raw)
            except ValueError as exc:
                with self.lock:
                    self.stats.parse_errors += 1
                    self.stats.last_error = str(exc)
                continue
            with self.lock:
                self.stats.up[symbol] = True
            self.out.put((symbol, ticker))


def wall_ms() -> int:
    return int(time.time() * 1000)
