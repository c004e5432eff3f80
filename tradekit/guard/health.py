"""What tk-guard --watch knows about itself, and the HTTP endpoints that tell it:
/healthz (the process answers), /readyz (its view of the account and prices can be trusted:
seed002-spec §16's checks) and /metrics (Prometheus text, via prometheus_client).

Bound to 127.0.0.1 unless [guard.health] says otherwise.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tradekit.guard.settings import GuardSettings
from tradekit.httpserver import BackgroundHttpServer

BREAKER_STATE = {"off": 0, "safe": 1, "panic": 2}
#: ws errors per message above which the feed is not trusted
MAX_WS_ERROR_RATIO = 0.2


@dataclass
class WatchState:
    """Shared by the watch loop (writes) and the health server (reads), under `lock`."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    started_ms: int = 0
    last_pass_ms: int | None = None
    last_pass_ok: bool = False
    last_error: str | None = None
    equity: float | None = None
    open_positions: int = 0
    without_stop: list[str] = field(default_factory=list)
    local_guard: list[str] = field(default_factory=list)
    #: positions whose guard record was unreadable on the last pass
    corrupt: list[str] = field(default_factory=list)
    #: symbols whose price the last pass found stale (it held their exits)
    stale: list[str] = field(default_factory=list)
    kill: str = "off"
    api_errors: int = 0
    feed_mode: str = "rest"
    feed_degraded: bool = False
    ws_messages: int = 0
    ws_errors: int = 0
    #: symbol -> wall-clock ms of its last price
    price_ms: dict[str, int] = field(default_factory=dict)
    symbols: set[str] = field(default_factory=set)
    exits: Counter[str] = field(default_factory=Counter)


def readiness(
    state: WatchState, settings: GuardSettings, now_ms: int
) -> tuple[bool, dict[str, bool], list[str]]:
    """(ready, each check, the reasons of those that failed)."""
    watch = settings.watch
    with state.lock:
        pass_age = None if state.last_pass_ms is None else now_ms - state.last_pass_ms
        fresh_pass = (
            state.last_pass_ok
            and pass_age is not None
            and pass_age <= watch.reconcile_seconds * 3000
        )
        stale = sorted(
            {s for s in state.symbols if watch.is_stale(state.price_ms.get(s), now_ms)}
            | set(state.stale)
        )
        ws_healthy = state.feed_mode == "ws" and not state.feed_degraded
        ratio = state.ws_errors / state.ws_messages if state.ws_messages else 0.0
        checks = {
            "account": fresh_pass,
            "positions": fresh_pass,
            "price": not stale,
            "sl_covered": not state.without_stop,
            "ws_mode_or_rest": ws_healthy or state.feed_mode == "rest",
            "ws_parse_error_ratio": not (state.feed_mode == "ws" and ratio > MAX_WS_ERROR_RATIO),
            "local_guard_ws_required": not (state.local_guard and not ws_healthy),
            "position_records": not state.corrupt,
        }
        reasons = [f"check_failed:{name}" for name, ok in checks.items() if not ok]
        if stale:
            reasons.append("stale_prices:" + ",".join(stale))
        if state.corrupt:
            reasons.append("unreadable_position_records:" + ",".join(state.corrupt))
        if state.without_stop:
            reasons.append("positions_without_stop:" + ",".join(state.without_stop))
        if not fresh_pass and state.last_error:
            reasons.append(f"last_pass_failed:{state.last_error}")
        if checks["ws_parse_error_ratio"] is False:
            reasons.append(f"ws_parse_error_ratio_too_high:{ratio:.2f}>{MAX_WS_ERROR_RATIO}")
    return all(checks.values()), checks, reasons


def ready_body(
    state: WatchState, settings: GuardSettings, now_ms: int
) -> tuple[int, dict[str, Any]]:
    ready, checks, reasons = readiness(state, settings, now_ms)
    with state.lock:
        body = {
            "ready": ready,
            "checks": checks,
            "safeMode": state.kill in ("safe", "panic"),
            "panicMode": state.kill == "panic",
            "priceFeedMode": state.feed_mode,
            "priceFeedDegraded": state.feed_degraded,
            "wsParseErrorRatio": round(state.ws_errors / state.ws_messages, 4)
            if state.ws_messages
            else 0.0,
            "reasons": reasons,
        }
    return (200 if ready else 503), body


def metrics_text(state: WatchState, now_ms: int) -> bytes:
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

    class Collector:
        def collect(self) -> Any:
            with state.lock:
                yield _gauge(
                    GaugeMetricFamily, "tk_guard_equity_usdt", "Account equity.", state.equity
                )
                yield _gauge(
                    GaugeMetricFamily, "tk_guard_open_positions", "Open positions.",
                    state.open_positions,
                )  # fmt: skip
                yield _gauge(
                    GaugeMetricFamily, "tk_guard_positions_without_stop",
                    "Positions without a resting stop-loss.", len(state.without_stop),
                )  # fmt: skip
                yield _gauge(
                    GaugeMetricFamily, "tk_guard_breaker_state",
                    "Kill switch / breakers: 0 off, 1 safe mode, 2 panic.",
                    BREAKER_STATE.get(state.kill, 1),
                )  # fmt: skip
                errors = CounterMetricFamily(
                    "tk_guard_api_errors", "Exchange errors since start.", value=state.api_errors
                )
                yield errors
                age = GaugeMetricFamily(
                    "tk_guard_price_age_seconds",
                    "Age of the latest price (its exchange time).",
                    labels=["symbol"],
                )
                for symbol in sorted(state.symbols):
                    seen = state.price_ms.get(symbol)
                    age.add_metric([symbol], (now_ms - seen) / 1000 if seen else float("inf"))
                yield age
                exits = CounterMetricFamily(
                    "tk_guard_exits", "Positions closed, by reason.", labels=["reason"]
                )
                for reason, count in sorted(state.exits.items()):
                    exits.add_metric([reason], count)
                yield exits

    registry = CollectorRegistry()
    registry.register(Collector())  # type: ignore[arg-type]
    return generate_latest(registry)


def _gauge(kind: Any, name: str, doc: str, value: float | None) -> Any:
    return kind(name, doc, value=float("nan") if value is None else float(value))


class HealthServer(BackgroundHttpServer):
    """A threaded HTTP server on the configured host and port (0: any free port)."""

    def __init__(self, state: WatchState, settings: GuardSettings, now_ms: Any):
        health = settings.health

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                try:
                    now = now_ms()
                    if self.path == "/healthz":
                        self._send(200, "application/json", b'{"status":"ok"}')
                    elif self.path == "/readyz":
                        status, body = ready_body(state, settings, now)
                        self._send(status, "application/json", json.dumps(body).encode())
                    elif self.path == "/metrics":
                        ctype = "text/plain; version=0.0.4; charset=utf-8"
                        self._send(200, ctype, metrics_text(state, now))
                    else:
                        self._send(404, "application/json", b'{"error":"not found"}')
                except Exception as exc:  # a bug must not take the guard down
                    body = json.dumps({"error": f"{type(exc).__name__}: {exc}"}).encode()
                    self._send(500, "application/json", body)

            def _send(self, status: int, ctype: str, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # the guard's events are its log

        super().__init__(health.host, health.port, Handler)
