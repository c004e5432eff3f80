"""tk-guard --watch: the guard as a long-running loop.

Every [guard.watch] reconcile_seconds a full pass (the one-shot run's code: reconcile,
breakers, kill switch, stop-loss invariant, exits). In between, every price that arrives
goes through the exit rules at once (Guard.on_price) and a close it decides is sent right
away, followed by a full pass. Prices come from the websocket ticker; a symbol whose stream
is down or silent for max_stale_seconds is polled over REST every interval_seconds until
the stream is back (paper mode and price_feed = "rest" always poll). /healthz, /readyz and
/metrics are served from what the loop has seen (tradekit.guard.health).
"""

from __future__ import annotations

import queue
from collections.abc import Callable
from typing import Any

from tradekit.errors import TradekitError
from tradekit.exchange.base import Ticker
from tradekit.exchange.errors import ExchangeError
from tradekit.exitstatus import ExitStatus
from tradekit.guard.engine import Guard, PassResult
from tradekit.guard.feed import WsTickerFeed, wall_ms
from tradekit.guard.health import WatchState
from tradekit.guard.settings import GuardSettings

#: the events whose reason is an exit, counted by /metrics' tk_guard_exits
EXIT_EVENTS = ("close", "closed_on_exchange")


class Watcher:
    def __init__(
        self,
        guard: Guard,
        settings: GuardSettings,
        *,
        prices: queue.Queue[tuple[str, Ticker]],
        feed: WsTickerFeed | None = None,
        wall: Callable[[], int] = wall_ms,
        say: Callable[[str], None] | None = None,
    ):
        self.guard = guard
        #: a line for people on stderr when a pass is held on bad data (once per change)
        self.say = say
        self._held_said: str | None = None
        self.settings = settings
        self.prices = prices
        self.feed = feed
        self.wall = wall
        self.state = WatchState(started_ms=wall(), feed_mode="ws" if feed else "rest")
        self.latest: dict[str, Ticker] = {}
        self.watched: set[str] = set()
        self.next_pass_ms = 0
        self.next_poll_ms = 0
        self._reconnects_said = 0
        self._down_said = False
        emit = guard.emit
        #: (symbol, side) -> the reason of the last hold said for it
        last_hold: dict[tuple[Any, Any], Any] = {}

        def counting_emit(event: dict[str, Any]) -> None:
            kind, key = event.get("kind"), (event.get("symbol"), event.get("side"))
            if kind == "hold":  # every pass holds again: said when the reason changes
                if last_hold.get(key) == event.get("reason"):
                    return
                last_hold[key] = event.get("reason")
            else:
                last_hold.pop(key, None)
            with self.state.lock:
                if kind in EXIT_EVENTS:
                    self.state.exits[str(event.get("reason"))] += 1
                elif kind == "exchange_error":
                    self.state.api_errors += 1
            emit(event)

        guard.emit = counting_emit

    # -- the loop ----------------------------------------------------------------------------

    def step(self, max_wait_s: float = 0.5) -> None:
        """One turn: a full pass if due, REST polls if due, then the prices that arrive
        within the wait (at most max_wait_s)."""
        if self.wall() >= self.next_pass_ms:
            self.full_pass()
        if self.wall() >= self.next_poll_ms:
            self._poll_rest()
        now = self.wall()
        wait_ms = min(self.next_pass_ms, self.next_poll_ms) - now
        try:
            first = self.prices.get(timeout=max(0.0, min(max_wait_s, wait_ms / 1000)))
        except queue.Empty:
            self._sync_feed_state()
            return
        latest = dict([first])
        while True:  # a burst of prices: only the newest of each symbol matters
            try:
                symbol, ticker = self.prices.get_nowait()
            except queue.Empty:
                break
            latest[symbol] = ticker
        for symbol, ticker in latest.items():
            self.on_tick(symbol, ticker)
        self._sync_feed_state()

    def on_tick(self, symbol: str, ticker: Ticker) -> None:
        with self.state.lock:  # the price's own time: an old price is stale however new
            self.state.price_ms[symbol] = ticker.ts_ms
        self.latest[symbol] = ticker
        if symbol not in self.watched:
            return
        try:
            reason = self.guard.on_price(symbol, ticker)
        except TradekitError as exc:  # the exchange, or the database busy: next pass
            self._failed(f"closing {symbol}: {exc}")
            self.next_pass_ms = 0  # look at the account again at once
            return
        if reason is not None:
            self.full_pass()  # reconcile what the close changed

    def full_pass(self) -> PassResult:
        now, watch = self.wall(), self.settings.watch
        fresh = {s: t for s, t in self.latest.items() if not watch.is_stale(t.ts_ms, now)}
        try:
            result = self.guard.run_once(prices=fresh)
        except TradekitError as exc:  # not the exchange (that is in the result): the database
            result = PassResult(error=ExchangeError(str(exc)))
            self.guard.event("pass_failed", reason=str(exc), action="none: tried again next pass")
        self.next_pass_ms = self.wall() + int(self.settings.watch.reconcile_seconds * 1000)
        held = result.held_on_bad_data()
        if held is not None and held != self._held_said and self.say is not None:
            self.say(held)
        self._held_said = held
        with self.state.lock:
            state = self.state
            state.last_pass_ms = self.wall()
            state.last_pass_ok = result.error is None
            state.last_error = None if result.error is None else str(result.error)
            if result.error is None:
                state.equity = float(result.equity) if result.equity is not None else None
                state.open_positions = result.positions
                state.without_stop = sorted(set(result.without_stop))
                state.local_guard = sorted(set(result.local_guard))
                state.corrupt = sorted(f"{symbol} {side}" for symbol, side in result.corrupt)
                state.stale = sorted(set(result.stale))
                state.kill = result.kill
                state.symbols = set(result.symbols)
        if result.error is None and set(result.symbols) != self.watched:
            self.watched = set(result.symbols)
            if self.feed is not None:
                self.feed.watch(self.watched)
        return result

    def _poll_rest(self) -> None:
        """Prices over REST for the symbols the stream does not bring."""
        self.next_poll_ms = self.wall() + int(self.settings.watch.interval_seconds * 1000)
        watch = self.settings.watch
        for symbol in sorted(self.watched):
            live = self.feed is not None and self.feed.is_up(symbol)
            if live and not watch.is_stale(self.state.price_ms.get(symbol), self.wall()):
                continue  # the stream brings it
            try:
                ticker = self.guard.exchange.ticker(symbol)
            except ExchangeError as exc:
                self._failed(f"polling {symbol}: {exc}")
                continue
            self.on_tick(symbol, ticker)

    def _failed(self, why: str) -> None:
        with self.state.lock:
            self.state.api_errors += 1
            self.state.last_error = why
        self.guard.event("exchange_error", reason=why, action="none: nothing is decided on it")

    def _sync_feed_state(self) -> None:
        if self.feed is None:
            return
        stats = self.feed.snapshot()
        degraded = any(not stats.up.get(symbol, False) for symbol in self.watched)
        with self.state.lock:
            self.state.ws_messages = stats.messages
            self.state.ws_errors = stats.parse_errors
            was = self.state.feed_degraded
            self.state.feed_degraded = degraded
        if stats.reconnects > self._reconnects_said:
            self._reconnects_said = stats.reconnects
            self._down_said = True
            self.guard.event(
                "price_feed", reason=f"websocket down: {stats.last_error}",
                action="prices polled over REST until it is back; reconnecting",
                reconnects=stats.reconnects,
            )  # fmt: skip
        elif was and not degraded and self._down_said:
            self._down_said = False
            self.guard.event("price_feed", reason="websocket back", action="REST polling stops")


def watch_forever(run: Any) -> ExitStatus:
    """Run the watch loop of a GuardRun until SIGINT or SIGTERM."""
    from tradekit.errors import ConfigError
    from tradekit.guard.health import HealthServer

    session = run.session
    settings: GuardSettings = session.config.guard
    prices: queue.Queue[tuple[str, Ticker]] = queue.Queue()
    feed = None
    if settings.watch.price_feed == "ws" and session.mode.mode == "live":
        feed = WsTickerFeed(
            lambda: _ws_client(session), prices, reconnect_seconds=settings.watch.reconnect_seconds
        )
    watcher = Watcher(run.guard, settings, prices=prices, feed=feed, say=session.reporter.error)
    server = None
    if settings.health.enabled:
        from tradekit.httpserver import is_loopback

        if not is_loopback(settings.health.host):  # allow_remote said so; still, say it
            session.reporter.warning(
                f"[guard.health] listens on {settings.health.host}: equity and positions "
                "are visible to the network"
            )
        try:
            server = HealthServer(watcher.state, settings, wall_ms).start()
        except OSError as exc:
            health = settings.health
            raise ConfigError(
                f"[guard.health] cannot listen on {health.host}:{health.port}: {exc.strerror}"
            ) from None
    run.guard.event(
        "watch_started", reason="tk-guard --watch",
        price_feed=watcher.state.feed_mode, health=server.url if server else None,
    )  # fmt: skip
    if feed is not None:
        feed.start()
    try:
        while True:
            watcher.step()
    finally:
        if feed is not None:
            feed.stop()
        if server is not None:
            server.stop()


def _ws_client(session: Any) -> Any:
    from tradekit.exchange.bitget import settings_of, ws_client

    config = session.config.exchange
    return ws_client(settings_of(config), config.ws_url)
