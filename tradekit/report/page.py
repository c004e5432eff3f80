"""The K-line decision page: the page's data built from what was loaded, and the HTML.

The page is one file: the vendored chart library, the page's script and style (templates/)
and the data, inlined. It needs no network and no server.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import orjson

from tradekit.report.decisions import (
    KINDS,
    bar_time_ms,
    kind_of,
    label,
    symbol_of,
    time_ms,
)
from tradekit.report.inputs import Chain, Loaded
from tradekit.report.trades import (
    CLOSES,
    equity_from_guard,
    trades_from_backtest,
    trades_from_guard,
)

_MARKER = re.compile(r"/\*TK_(?:STYLE|LIBRARY|SCRIPT|DATA)\*/|TK_TITLE")
VERSION = "5.2.1"  # the vendored lightweight-charts (vendor/README.md)
TIMEFRAMES = ("1m", "5m", "15m", "30m", "1h", "4h", "1d")
#: bars of context shown before the first and after the last decision
MARGIN_BARS = 60


@dataclass
class Window:
    symbol: str | None = None
    since_ms: int | None = None
    until_ms: int | None = None


@dataclass
class PageData:
    """Everything the page shows, as plain JSON."""

    title: str
    symbol: str | None
    generated_at: str
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    candles: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    timeframe: str | None = None
    decisions: list[dict[str, Any]] = field(default_factory=list)
    trades: list[dict[str, Any]] = field(default_factory=list)
    equity: list[dict[str, Any]] = field(default_factory=list)
    price_lines: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] | None = None
    files: list[str] = field(default_factory=list)  # the audit files decisions point into

    def to_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "symbol": self.symbol,
            "generatedAt": self.generated_at,
            "problems": self.problems,
            "notes": self.notes,
            "candles": self.candles,
            "timeframe": self.timeframe,
            "decisions": self.decisions,
            "trades": self.trades,
            "equity": self.equity,
            "priceLines": self.price_lines,
            "summary": self.summary,
            "files": self.files,
            "kinds": {k: {"label": v[0], "color": v[1], "shape": v[2]} for k, v in KINDS.items()},
            "library": f"TradingView Lightweight Charts {VERSION}",
        }


def build(loaded: Loaded, data_root: Path, window: Window, generated_at: str) -> PageData:
    chains = list(loaded.chains.values())
    symbols = Counter(symbol_of(chain.record) for chain in chains)
    symbols.pop(None, None)
    symbol = window.symbol or (symbols.most_common(1)[0][0] if symbols else None)
    page = PageData(title=f"tradekit report: {symbol or 'no symbol'}", symbol=symbol,
                    generated_at=generated_at, problems=list(loaded.problems))  # fmt: skip
    if not loaded.lines:
        page.problems.append("the input is empty: no records to show")
    others = {name: n for name, n in symbols.items() if name != symbol}
    if others:
        listed = ", ".join(f"{name} {n}" for name, n in sorted(others.items()))
        page.notes.append(f"records of other symbols not shown ({listed}): use --symbol")
    events = [event for event, _ in loaded.guard_events]
    followed = _follow_positions(loaded)
    files: dict[str, int] = {}
    for chain in chains:
        if symbol_of(chain.record) == symbol:
            decision = _decision(chain, followed, files)
            if _inside(decision["t"], window):
                page.decisions.append(decision)
    page.decisions.sort(key=lambda d: (d["t"] is None, d["t"] or 0, d["cycleId"]))
    for index, decision in enumerate(page.decisions):
        decision["id"] = index
    trades = trades_from_backtest(loaded.trades) if loaded.trades else trades_from_guard(events)
    page.trades = [t.to_json() for t in trades if t.symbol in (symbol, None)]
    _link_trades(page)
    page.equity = _with_drawdown(loaded.equity or equity_from_guard(events))
    page.price_lines = _active_levels(events, page.decisions, symbol)
    page.summary = loaded.summary
    page.files = list(files)
    _add_candles(page, data_root, window)
    return page


def _inside(t: int | None, window: Window) -> bool:
    if t is None:
        return True
    return (window.since_ms is None or t >= window.since_ms) and (
        window.until_ms is None or t < window.until_ms
    )


def _decision(
    chain: Chain, followed: dict[str, list[dict[str, Any]]], files: dict[str, int]
) -> dict[str, Any]:
    """One decision; its audit lines as [file index, line, stage] (the page's `files`)."""
    record = chain.record
    kind = kind_of(record)
    key = (record.get("execution") or {}).get("idempotencyKey")
    return {
        "t": bar_time_ms(chain),
        "kind": kind,
        "label": label(record, kind),
        "cycleId": chain.cycle_id,
        "side": (record.get("plan") or {}).get("side"),
        "where": [[files.setdefault(w.file, len(files)), w.line, w.stage] for w in chain.where],
        "record": record,
        "guard": followed.get(key, []) if key else [],
    }


def _follow_positions(loaded: Loaded) -> dict[str, list[dict[str, Any]]]:
    """The guard's events for each position, by the key of the plan that opened it (the
    execution's idempotencyKey, the guard's cycleKey), from its tracking to its close."""
    following: dict[tuple[Any, Any], str] = {}
    by_key: dict[str, list[dict[str, Any]]] = {}
    for event, where in loaded.guard_events:
        position = (event.get("symbol"), event.get("side"))
        key = (event.get("details") or {}).get("cycleKey")
        if event.get("kind") == "tracking" and key:
            following[position] = key
        key = following.get(position)
        if key is None:
            continue
        by_key.setdefault(key, []).append({**event, "where": where.to_json()})
        if event.get("kind") in CLOSES:
            following.pop(position, None)
    return by_key


def _link_trades(page: PageData) -> None:
    """A guard trade names the plan that opened it by the execution's key."""
    by_key = {(d["record"].get("execution") or {}).get("idempotencyKey"): d for d in page.decisions}
    for trade in page.trades:
        opened = by_key.get(trade["cycleKey"]) if trade["cycleKey"] else None
        if opened is not None and trade["cycleId"] is None:
            trade["cycleId"] = opened["cycleId"]


def _with_drawdown(points: list[dict[str, Any]]) -> list[dict[str, Any]]:
    peak = None
    out = []
    for point in points:
        t, equity = time_ms(point.get("ts")), point.get("equity")
        if t is None or not isinstance(equity, int | float):
            continue
        peak = equity if peak is None else max(peak, equity)
        drawdown = 0.0 if not peak else (equity / peak - 1) * 100
        out.append({"t": t, "equity": equity, "drawdownPct": round(drawdown, 4)})
    return out


def _active_levels(
    events: list[dict[str, Any]], decisions: list[dict[str, Any]], symbol: str | None
) -> list[dict[str, Any]]:
    """The open position's stop and targets: its last guard event, unless that closed it."""
    mine = [e for e in events if e.get("symbol") == symbol]
    if not mine or mine[-1].get("kind") in CLOSES:
        return []
    prices = mine[-1].get("prices") or {}
    lines = (
        [{"price": prices["stop"], "title": "stop", "color": "#ff1744"}] if "stop" in prices else []
    )
    opened = [d for d in decisions if d["kind"] == "executed"]
    if opened:
        plan = opened[-1]["record"].get("plan") or {}
        for n, target in enumerate(plan.get("takeProfits") or [], 1):
            lines.append({"price": target, "title": f"TP{n}", "color": "#00c853"})
    return lines


def _add_candles(page: PageData, data_root: Path, window: Window) -> None:
    from tradekit.market.store import CandleStore

    store = CandleStore(data_root)
    stored = sorted((tf for sym, tf in store.series() if sym == page.symbol), key=_timeframe_ms)
    if page.symbol is None:
        return
    if not stored:
        page.problems.append(
            f"no {page.symbol} candles in {data_root}: the decisions are listed, not charted "
            f"(import some with `tk data import` or `tk data fetch {page.symbol} 1h`)"
        )
        return
    base = store.load(page.symbol, stored[0])
    assert base is not None
    base = base.between(*_span(page, window, base.step))
    for timeframe in TIMEFRAMES:
        step = _timeframe_ms(timeframe)
        if step < base.step or step % base.step:
            continue
        candles = base if step == base.step else _resample(base, timeframe)
        if len(candles):
            page.candles[timeframe] = _columns(candles)
    wanted = [d["record"].get("plan", {}) for d in page.decisions if d["record"].get("plan")]
    timeframes = Counter(((p.get("source") or {}).get("timeframe")) for p in wanted)
    preferred = [tf for tf, _ in timeframes.most_common() if tf in page.candles]
    page.timeframe = preferred[0] if preferred else ("1h" if "1h" in page.candles else stored[0])
    if not page.candles:
        page.problems.append(f"no {page.symbol} candles in the report's time range")
        return
    # the equity panes share the chart's time axis: points past the candles would squash it
    first, last = base.ts[0], base.ts[-1] + base.step
    page.equity = [point for point in page.equity if first <= point["t"] < last]


def _resample(candles: Any, timeframe: str) -> Any:
    from tradekit.market.candles import resample

    return resample(candles, timeframe)


def _timeframe_ms(timeframe: str) -> int:
    from tradekit.market.candles import timeframe_ms

    return timeframe_ms(timeframe)


def _span(page: PageData, window: Window, step: int) -> tuple[int | None, int | None]:
    times = [d["t"] for d in page.decisions if d["t"] is not None]
    times += [
        t
        for trade in page.trades
        for t in (time_ms(trade["entryTs"]), time_ms(trade["exitTs"]))
        if t
    ]
    since = (
        window.since_ms
        if window.since_ms is not None
        else (min(times) - MARGIN_BARS * step if times else None)
    )
    until = (
        window.until_ms
        if window.until_ms is not None
        else (max(times) + MARGIN_BARS * step if times else None)
    )
    return since, until


def _columns(candles: Any) -> dict[str, Any]:
    """Columns of the bars; their open times as runs of consecutive bars, [first, count]
    (a year of 5m bars is then a few numbers instead of 105,120)."""
    import numpy as np

    rows = candles.rows
    seconds = rows["ts"] // 1000
    breaks = np.flatnonzero(np.diff(seconds) != candles.step // 1000) + 1
    starts = np.r_[0, breaks]
    counts = np.diff(np.r_[starts, len(seconds)])
    return {
        "step": candles.step // 1000,
        "runs": np.column_stack([seconds[starts], counts]).tolist(),
        "o": rows["open"].tolist(),
        "h": rows["high"].tolist(),
        "l": rows["low"].tolist(),
        "c": rows["close"].tolist(),
        "v": rows["volume"].round(3).tolist(),
    }


def _template(name: str) -> str:
    return (resources.files("tradekit.report") / name).read_text(encoding="utf-8")


def render(page: PageData) -> bytes:
    """The HTML page: its JSON can hold any text, so `<` is escaped where it is inlined."""
    data = orjson.dumps(page.to_json(), default=str).decode().replace("<", "\\u003c")
    html = _template("templates/page.html")
    parts = {
        "/*TK_STYLE*/": _template("templates/page.css"),
        "/*TK_LIBRARY*/": _template("vendor/lightweight-charts.standalone.production.js"),
        "/*TK_SCRIPT*/": _template("templates/page.js"),
        "TK_TITLE": page.title.replace("&", "&amp;").replace("<", "&lt;"),
        "/*TK_DATA*/": data,
    }
    # one pass over the template: what is put in is never scanned for markers again
    html = _MARKER.sub(lambda match: parts[match.group(0)], html)
    return html.encode()
