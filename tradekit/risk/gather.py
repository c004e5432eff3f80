"""Building the AccountSnapshot of a tk-risk run from the exchange layer, the ledger, the
kill switch and the candle store."""

from __future__ import annotations

import functools
from decimal import Decimal
from typing import Any

import numpy as np

from tradekit import indicators as ind
from tradekit.exchange.base import Ticker
from tradekit.exchange.markets import DEFAULT_MARKETS
from tradekit.exchange.paper import PRICE_TIMEFRAMES
from tradekit.killswitch import FLAG, kill_state
from tradekit.market.freshness import bar_price_ms
from tradekit.market.store import CandleStore
from tradekit.risk.account import AccountSnapshot, Entry, Lazy
from tradekit.risk.rules import day_start_ms
from tradekit.risk.settings import RiskSettings
from tradekit.store import Store


def _candle_ticker(candles: CandleStore, symbol: str, now_ms: int) -> Ticker | None:
    """The last close by now of the finest stored timeframe, as the paper exchange prices."""
    for timeframe in PRICE_TIMEFRAMES:
        series = candles.load(symbol, timeframe)
        if series is not None:
            closed = series.closed_at(now_ms)
            if len(closed):
                close = Decimal(repr(float(closed.rows["close"][-1])))
                close_ms = int(closed.ts[-1]) + series.step
                return Ticker(close, close, bar_price_ms(close_ms, series.step, now_ms))
    return None


def candle_atr(
    candles: CandleStore, settings: RiskSettings, symbol: str, now_ms: int
) -> Decimal | None:
    """ATR of the configured timeframe at the last bar closed by now, from HOME/data."""
    sl = settings.stop_loss
    try:
        series = candles.load_or_resample(symbol, sl.atr_timeframe).closed_at(now_ms)
    except Exception:
        return None
    rows = series.rows[-(sl.atr_period * 20 + 1) :]
    if len(rows) <= sl.atr_period:
        return None
    value = ind.atr(rows["high"], rows["low"], rows["close"], sl.atr_period)[-1]
    return None if np.isnan(value) else Decimal(repr(float(value)))


def ledger_entries(store: Store, mode: str) -> list[tuple[str, str, int]]:
    rows = store.db.execute(
        "SELECT symbol, side, created_ms FROM intents WHERE mode=? AND action='open' "
        "AND status IN ('placed', 'done', 'dry_run') ORDER BY created_ms",
        (mode,),
    ).fetchall()
    return [(row[0], row[1], int(row[2])) for row in rows]


def traded_symbols(store: Store, mode: str, day_start: int) -> set[str]:
    """Symbols whose fills today can hold realised profit or loss: those tradekit opened in
    the last 30 days (a position may be closed long after its entry) or recorded closes of
    today. Asking the exchange about every market would cost a request each."""
    since = day_start - 30 * 86_400_000
    rows = store.db.execute(
        "SELECT symbol FROM intents WHERE mode=? AND created_ms>=? AND symbol IS NOT NULL "
        "UNION SELECT symbol FROM closes WHERE mode=? AND closed_ms>=?",
        (mode, since, mode, day_start),
    ).fetchall()
    return {row[0] for row in rows}


def closes(store: Store, mode: str, limit: int = 50) -> list[tuple[str, Decimal, int]]:
    rows = store.db.execute(
        "SELECT reason, pnl, closed_ms FROM closes WHERE mode=? ORDER BY closed_ms DESC LIMIT ?",
        (mode, limit),
    ).fetchall()
    return [(row[0], Decimal(row[1]), int(row[2])) for row in rows]


def gather(
    *,
    session: Any,
    store: Store,
    exchange: Any | None,
    settings: RiskSettings,
    now_ms: int,
    max_price_age_seconds: float,
    equity: Decimal | None = None,
) -> AccountSnapshot:
    mode = session.mode.mode
    candles = CandleStore(session.home.data)
    positions: frozenset[tuple[str, str]] = frozenset()
    available = equity
    realized = Decimal(0)
    if exchange is not None and equity is None:
        balance = exchange.balance()
        equity, available = balance.equity, balance.available
        positions = frozenset((p.symbol, p.side) for p in exchange.positions())
        start = day_start_ms(now_ms, settings.timezone)
        held = {symbol for symbol, _side in positions}
        for symbol in sorted(held | set(settings.symbols) | traded_symbols(store, mode, start)):
            realized += sum((f.profit - f.fee for f in exchange.fills(symbol, start)), Decimal(0))
        tickers = Lazy(lambda symbol: _safe(lambda: exchange.ticker(symbol)))
        markets = Lazy(lambda symbol: _safe(lambda: exchange.market(symbol)))
    else:
        tickers = Lazy(lambda symbol: _candle_ticker(candles, symbol, now_ms))
        markets = Lazy(DEFAULT_MARKETS.get)
    start = day_start_ms(now_ms, settings.timezone)
    entries = ledger_entries(store, mode)
    today = tuple(Entry(s, side, ms) for s, side, ms in entries if ms >= start)
    last_entry = {(s, side): ms for s, side, ms in entries}
    recent = closes(store, mode)
    streak = 0
    for reason, _pnl, _ms in recent:
        if reason != "stop_loss":
            break
        streak += 1
    losses = 0
    for _reason, pnl, _ms in recent:
        if pnl >= 0:
            break
        losses += 1
    peak = None
    if equity is not None:
        key = f"peak_equity:{mode}"
        stored = store.get_flag(key)
        peak = max(Decimal(str(stored)) if stored is not None else equity, equity)
        if stored is None or peak != Decimal(str(stored)):
            store.set_flag(key, peak, session.clock.now())
    kill, source = kill_state(session.home.root, store.get_flag(FLAG))
    return AccountSnapshot(
        mode=mode, equity=equity, available=available, positions=positions,
        entries_today=today, last_entry=last_entry, realized_today=realized,
        peak_equity=peak, consecutive_stop_losses=streak,
        last_stop_loss_ms=recent[0][2] if streak else None, losses_in_a_row=losses,
        kill=kill, kill_source=source, markets=markets, tickers=tickers,
        max_price_age_seconds=max_price_age_seconds,
        # once per symbol and run: it reads the candle file
        atr=functools.cache(lambda symbol: candle_atr(candles, settings, symbol, now_ms)),
    )  # fmt: skip


def _safe(call: Any) -> Any:
    from tradekit.errors import UsageError
    from tradekit.exchange.errors import Rejected

    try:
        return call()
    except (Rejected, UsageError):  # not a market, or no price for it: the rule says so
        return None
