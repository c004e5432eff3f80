"""The emulator's public websocket: Bitget v2's ticker channel, as ccxt.pro's bitget speaks
it (reference/ccxt-bitget.md; Bitget's "Tickers Channel"):

    -> {"op":"subscribe","args":[{"instType":"USDT-FUTURES","channel":"ticker","instId":"BTCUSDT"}]}
    <- {"event":"subscribe","arg":{...}}
    <- {"action":"snapshot","arg":{...},"data":[{"instId":"BTCUSDT","lastPr":"...",
        "markPrice":"...","ts":"..."}],"ts":...}
    -> "ping"   <- "pong"

A snapshot is pushed when a subscribed symbol's price changes (checked every `push_ms`)
and at least once a second. Tests can pause the pushes (a silent feed) and drop every
connection (a reconnect). Served by aiohttp, which ccxt already depends on, on its own
port; bound to 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import deque
from typing import Any

from tradekit.emulator.server import Emulator
from tradekit.exchange.paper import price_time

CHANNELS = ("ticker",)
PATH = "/v2/ws/public"


class WsServer:
    def __init__(
        self, emulator: Emulator, host: str = "127.0.0.1", port: int = 0, push_ms: int = 20
    ):
        self.emulator = emulator
        self.host, self.port = host, port
        self.push_ms = push_ms
        #: no pushes while set (the feed goes silent; the connection stays up)
        self.paused = threading.Event()
        #: the latest snapshots pushed, (symbol, last) (tests)
        self.pushed: deque[tuple[str, str]] = deque(maxlen=1000)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sockets: set[Any] = set()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._stopping: asyncio.Event | None = None

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self.port}{PATH}"

    def start(self) -> WsServer:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the emulator's websocket server did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join(5)

    def drop_connections(self) -> None:
        """Close every client connection (the client should reconnect)."""
        if self._loop is None:
            return
        for ws in list(self._sockets):
            asyncio.run_coroutine_threadsafe(ws.close(), self._loop)

    def __enter__(self) -> WsServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # -- the server ---------------------------------------------------------------------

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        from aiohttp import web

        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        app = web.Application()
        app.router.add_get(PATH, self._socket)
        runner = web.AppRunner(app, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._ready.set()
        await self._stopping.wait()
        for ws in list(self._sockets):
            await ws.close()
        await runner.cleanup()

    async def _socket(self, request: Any) -> Any:
        from aiohttp import WSMsgType, web

        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.add(ws)
        subscribed: dict[str, dict[str, str]] = {}
        pusher = asyncio.create_task(self._push(ws, subscribed))
        try:
            async for message in ws:
                if message.type != WSMsgType.TEXT:
                    continue
                if message.data == "ping":
                    await ws.send_str("pong")
                    continue
                for reply in self._command(message.data, subscribed):
                    await ws.send_str(json.dumps(reply))
        finally:
            pusher.cancel()
            self._sockets.discard(ws)
        return ws

    def _command(self, text: str, subscribed: dict[str, dict[str, str]]) -> list[dict[str, Any]]:
        try:
            request = json.loads(text)
            op, args = request["op"], list(request["args"])
        except (ValueError, KeyError, TypeError):
            return [{"event": "error", "code": 30002, "msg": f"illegal request: {text[:100]}"}]
        replies: list[dict[str, Any]] = []
        for arg in args:
            channel, inst = arg.get("channel"), arg.get("instId")
            if channel not in CHANNELS or inst not in self.emulator.markets:
                msg = (
                    f"instType:{arg.get('instType')},channel:{channel},instId:{inst} doesn't exist"
                )
                replies.append({"event": "error", "code": 30001, "msg": msg, "arg": arg})
                continue
            if op == "subscribe":
                subscribed[inst] = arg
            elif op == "unsubscribe":
                subscribed.pop(inst, None)
            replies.append({"event": op, "arg": arg})
        return replies

    async def _push(self, ws: Any, subscribed: dict[str, dict[str, str]]) -> None:
        sent: dict[str, tuple[str, str, int]] = {}  # symbol -> (last, mark, pushed at)
        while not ws.closed:
            await asyncio.sleep(self.push_ms / 1000)
            if self.paused.is_set():
                continue
            for symbol, arg in list(subscribed.items()):
                snapshot = self._snapshot(symbol)
                if snapshot is None:
                    continue
                last, mark, ts = snapshot
                pushed = self.emulator.market_now()
                previous = sent.get(symbol)
                if previous and previous[:2] == (last, mark) and pushed - previous[2] < 1000:
                    continue
                sent[symbol] = (last, mark, pushed)
                data = {
                    "instId": symbol, "symbol": symbol, "lastPr": last, "bidPr": last,
                    "askPr": last, "bidSz": "1", "askSz": "1", "markPrice": mark,
                    "indexPrice": mark, "change24h": "0", "ts": str(ts),
                }  # fmt: skip
                message = {"action": "snapshot", "arg": arg, "data": [data], "ts": ts}
                self.pushed.append((symbol, last))
                await ws.send_str(json.dumps(message))

    def _snapshot(self, symbol: str) -> tuple[str, str, int] | None:
        """(last, mark, when the price was true) of a symbol now, brought up to the clock:
        the same time as the REST ticker's (paper.price_time)."""
        emulator = self.emulator
        with emulator._lock:
            emulator.advance_symbol(symbol)
            prices = emulator.engine.state.prices.get(symbol)
            if prices is None:
                return None
            now = emulator.market_now()
            ts = price_time(emulator.engine, emulator.store, symbol, now)
            return str(prices.last), str(prices.mark), ts
