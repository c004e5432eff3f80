"""One backtest, from a request to a complete run folder (TK_HOME/backtests/<run id>/).

The run works in a hidden folder beside the others — a TK_HOME of its own (config, the
ledger, the paper account, the guard's book and journal in tradekit.db, its data folder
a link to the real one) — and is renamed into place only once every file is written: a
failed run leaves nothing behind."""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from tradekit import __version__, jsonio
from tradekit.backtest.clock import SimClock
from tradekit.backtest.loop import BarPlans, Funding, LoopResult, Stages, run_bars
from tradekit.backtest.trades import Trade, paper_trades
from tradekit.clock import format_time
from tradekit.config import Config
from tradekit.errors import BadInputError, UsageError
from tradekit.home import Home
from tradekit.market.candles import Candles, timeframe_ms
from tradekit.market.store import CandleStore


@dataclass(frozen=True)
class Request:
    strategy: str
    symbol: str
    start: datetime
    end: datetime
    spec_file: Path | None = None


@dataclass(frozen=True)
class Outcome:
    folder: Path
    summary: dict[str, Any]


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _iso(ms: int) -> str:
    return format_time(datetime.fromtimestamp(ms / 1000, UTC))


def replay(request: Request, config: Config, config_source: str, data: Path) -> BarPlans:
    """tk-signal --replay FROM TO over the window: the plans cron would see bar by bar."""
    from tradekit.signals import prepare, records

    prepared = prepare(
        request.strategy,
        table=config.strategies.get(request.strategy, {}),
        config_source=config_source,
        symbol=request.symbol,
        store=CandleStore(data),
        data_file=None,
        now=request.end,
        replay=(request.start, request.end),
        spec_file=request.spec_file,
    )
    step = timeframe_ms(prepared.timeframe)
    close_ms = prepared.evaluations.bar_ts[prepared.rows] + step
    start, end = _ms(request.start), _ms(request.end)
    if len(close_ms) == 0 or close_ms[0] >= start + step or close_ms[-1] <= end - step:
        held = "none" if len(close_ms) == 0 else f"{_iso(close_ms[0])} .. {_iso(close_ms[-1])}"
        raise BadInputError(
            f"the data does not cover the window: {request.symbol} {prepared.timeframe} "
            f"bar closes from {_iso(start)} to {_iso(end)} wanted, the data has {held} "
            "(`tk data ls`; `tk data fetch` or `import` the rest)"
        )
    return BarPlans(close_ms.astype(np.int64), list(records(prepared, dry_run=False)))


def price_bars(data: Path, symbol: str, first_close: int, last_close: int) -> Candles:
    """The paper exchange's price bars over the window; a gap in them is refused (the
    fills of a bar that is not there would be invented)."""
    from tradekit.exchange.paper import price_series
    from tradekit.signals import gaps_in

    series = price_series(CandleStore(data), symbol)
    window = series.between(first_close - series.step, last_close)
    gaps = gaps_in(window)
    if gaps:
        after, missing = gaps[0]
        raise BadInputError(
            f"a gap in the {symbol} {series.timeframe} candles: {missing} bar(s) missing "
            f"after {_iso(after)}; fill it (`tk data fetch`/`import`) or choose another window"
        )
    return window


def fingerprint(*parts: Any) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(jsonio.dumps(part) if not isinstance(part, bytes) else part)
        digest.update(b"\0")
    return digest.hexdigest()


def _data_fingerprints(data: Path, symbol: str) -> dict[str, str]:
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted((data / symbol).glob("*.npy"))
        if path.is_file()
    }


class RunFolder:
    """The hidden folder a run writes into, renamed into place when complete."""

    def __init__(self, runs: Path, run_id: str):
        self.runs = runs
        self.final = runs / run_id
        self.tmp = runs / f".tmp-{run_id}"

    def __enter__(self) -> RunFolder:
        self.runs.mkdir(parents=True, exist_ok=True)
        if self.final.exists():
            raise UsageError(f"{self.final} already exists")
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.tmp.mkdir()
        return self

    def __exit__(self, exc_type: Any, *_rest: Any) -> None:
        if exc_type is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            return
        self.tmp.rename(self.final)

    def write_json(self, name: str, value: Any) -> None:
        (self.tmp / name).write_bytes(jsonio.dumps(value, pretty=True) + b"\n")

    def write_lines(self, name: str, lines: list[bytes]) -> None:
        (self.tmp / name).write_bytes(b"".join(line + b"\n" for line in lines))


def sim_home(root: Path, data: Path, config_text: bytes) -> Home:
    """A fresh TK_HOME, made as `tk init` makes one, whose data folder is the real one."""
    from tradekit.home import initialise

    home = Home(root)
    root.mkdir()
    (root / "data").symlink_to(data.resolve(), target_is_directory=True)
    initialise(home, datetime.now(UTC))
    home.config_file.write_bytes(config_text)
    return home


def sim_session(home: Home, config: Config, clock: SimClock, store: Any, reporter: Any) -> Any:
    """A paper-mode Session on the simulated clock, its paper account held in memory."""
    from tradekit.backtest.paper import CachedCandles, HeldPaperExchange, SimSession
    from tradekit.exchange.adapters import PaperAdapter
    from tradekit.modes import ModeChoice
    from tradekit.redact import Redactor

    paper = HeldPaperExchange(
        store,
        CachedCandles(home.data),
        clock,  # type: ignore[arg-type] - answers now() like a Clock
        slippage=config.paper.slippage,
        starting_balance=config.paper.starting_balance,
    )
    mode = ModeChoice("paper", "paper")
    return SimSession(
        "tk backtest", home, config, clock, mode, Redactor(), reporter,
        held_paper=PaperAdapter(paper),
    )  # fmt: skip


def run_backtest(
    home: Home, config: Config, config_text: bytes, request: Request, reporter: Any
) -> Outcome:
    config_source = str(home.config_file)
    plans = replay(request, config, config_source, home.data)
    bars = price_bars(home.data, request.symbol, int(plans.close_ms[0]), int(plans.close_ms[-1]))
    spec_text = request.spec_file.read_bytes() if request.spec_file else b""
    data_prints = _data_fingerprints(home.data, request.symbol)
    key = fingerprint(__version__, config_text, spec_text, data_prints, _request_json(request))
    run_id = (
        f"{request.strategy}-{request.symbol}-{_ms(request.start) // 1000}-"
        f"{_ms(request.end) // 1000}-{key[:10]}"
    )
    done = home.root / "backtests" / run_id
    if (done / "summary.json").exists():  # the same code, config and data: the same run
        reporter.note(f"already run: {done} (delete it to run again)")
        return Outcome(done, jsonio.loads((done / "summary.json").read_bytes()))
    with RunFolder(home.root / "backtests", run_id) as folder:
        from tradekit.redact import Redactor
        from tradekit.store import Store

        clock = SimClock(int(plans.close_ms[0]))
        sim = sim_home(folder.tmp / "home", home.data, config_text)
        if request.spec_file is not None:
            (folder.tmp / "spec.json").write_bytes(spec_text)
        with Store(sim.db_file, Redactor()) as store:
            session = sim_session(sim, config, clock, store, reporter)
            settings = config.backtest
            funding = Funding(settings.funding_rate, settings.funding_interval_hours)
            stages = Stages(session, store, clock, funding)
            try:
                looped = run_bars(plans, stages, request.symbol)
                open_at_end = stages.busy(request.symbol)
            finally:
                stages.close()
            session.held_paper.paper.save()
            trades = paper_trades(store, funding.paid)
        (folder.tmp / "home" / "data").unlink()
        summary = _summary(request, plans, bars, looped, trades, config, open_at_end)
        summary["runId"] = run_id
        folder.write_lines("decisions.jsonl", looped.decisions)
        folder.write_lines("trades.jsonl", [jsonio.dumps(t.to_json()) for t in trades])
        folder.write_lines("equity.jsonl", _equity_lines(plans, looped, config))
        guard_log = folder.tmp / "home" / "logs" / "guard.jsonl"
        if guard_log.exists():
            guard_log.rename(folder.tmp / "guard.jsonl")
        folder.write_json("summary.json", summary)
        folder.write_json(
            "run.json",
            {
                "runId": run_id,
                "version": __version__,
                "request": _request_json(request),
                "config": config.model_dump(mode="json"),
                "strategyParameters": _parameters(request, config),
                "data": data_prints,
                "fingerprint": key,
                "createdAt": format_time(datetime.now(UTC)),
            },
        )
    return Outcome(folder.final, summary)


def _funding_source(config: Config) -> str:
    settings = config.backtest
    if not settings.funding_rate:
        return "none: [backtest] funding_rate = 0"
    return (
        f"configured: [backtest] funding_rate {settings.funding_rate} every "
        f"{settings.funding_interval_hours} h (no funding-rate history is read)"
    )


def _request_json(request: Request) -> dict[str, Any]:
    return {
        "strategy": request.strategy,
        "symbol": request.symbol,
        "from": format_time(request.start),
        "to": format_time(request.end),
        "spec": str(request.spec_file) if request.spec_file else None,
    }


def _parameters(request: Request, config: Config) -> Any:
    if request.spec_file is not None:
        return jsonio.loads(request.spec_file.read_bytes())
    return config.strategies.get(request.strategy, {})


def equity_curve(plans: BarPlans, looped: LoopResult, config: Config) -> np.ndarray:
    """Equity at every bar close of the window: marked to market where the loop stepped,
    carried forward over the bars it skipped (flat: nothing moves it)."""
    start = float(config.paper.starting_balance)
    curve = np.full(len(plans.close_ms), np.nan)
    if looped.equity:
        at = np.searchsorted(plans.close_ms, [ms for ms, _ in looped.equity])
        curve[at] = [float(value) for _, value in looped.equity]
    curve[0] = start if np.isnan(curve[0]) else curve[0]
    filled = np.where(np.isnan(curve), 0, np.arange(len(curve)))
    return curve[np.maximum.accumulate(filled)]


def _equity_lines(plans: BarPlans, looped: LoopResult, config: Config) -> list[bytes]:
    curve = equity_curve(plans, looped, config)
    return [
        jsonio.dumps({"ts": _iso(int(ms)), "equity": round(float(value), 4)})
        for ms, value in zip(plans.close_ms.tolist(), curve.tolist(), strict=True)
    ]


def _in_position(plans: BarPlans, trades: list[Trade]) -> np.ndarray:
    held = np.zeros(len(plans.close_ms), dtype=bool)
    for trade in trades:
        lo = np.searchsorted(plans.close_ms, trade.entry_ms, "right")
        hi = np.searchsorted(plans.close_ms, trade.exit_ms, "left")
        held[lo : hi + 1] = True
    return held


def _summary(  # noqa: PLR0917 - everything the summary reports on
    request: Request,
    plans: BarPlans,
    bars: Candles,
    looped: LoopResult,
    trades: list[Trade],
    config: Config,
    open_at_end: bool,
) -> dict[str, Any]:
    from tradekit.backtest import metrics

    curve = equity_curve(plans, looped, config)
    bar_ms = int(plans.close_ms[1] - plans.close_ms[0]) if len(plans.close_ms) > 1 else 3600000
    closes = bars.rows["close"]
    return {
        "strategy": request.strategy,
        "symbol": request.symbol,
        "from": format_time(request.start),
        "to": format_time(request.end),
        "bars": len(plans.close_ms),
        "barsStepped": looped.bars_stepped,
        "plans": sum(1 for r in plans.records if r["plan"] is not None),
        **metrics.trade_figures(trades),
        **metrics.equity_figures(plans.close_ms, curve, bar_ms, _in_position(plans, trades)),
        "marketChangePct": metrics.market_change_pct(closes) if len(closes) else None,
        "openPositionAtEnd": open_at_end,
        "fundingSource": _funding_source(config),
        **metrics.tables(trades),
    }
