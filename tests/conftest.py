"""Shared fixtures: a UTC timezone, a fixed clock, a fresh TK_HOME, and the golden flag."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: test data copied into the repo (tests/data/README.md says where each file came from)
TEST_DATA = ROOT / "tests" / "data"
OHLCV = TEST_DATA / "ohlcv"
BIN = Path(sys.executable).parent
FIXED_NOW = "2026-11-20T10:00:00Z"
SEED_PLAN = (
    '{"tradePlanVersion":1,"cycleId":"1763632800000","dryRun":false,'
    '"plan":{"symbol":"BTCUSDT","side":"long","level":"strong","reason":"v5 retest"},'
    '"decision":{"blockedByNews":false,"newsReason":[]}}'
)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="Rewrite tests/golden/*/*/ expected files from the current output (review the diff!).",
    )


@pytest.fixture(autouse=True, scope="session")
def utc_timezone() -> None:
    os.environ["TZ"] = "UTC"
    time.tzset()


@pytest.fixture
def bare_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """TK_HOME pointing at a path that does not exist yet (`tk init` not run), and a fixed
    clock for the test (also seen by subprocesses)."""
    path = tmp_path / "home"
    monkeypatch.setenv("TK_HOME", str(path))
    monkeypatch.setenv("TK_NOW", FIXED_NOW)
    for name in ("TK_CONFIG", "BITGET_API_KEY", "BITGET_API_SECRET", "BITGET_API_PASSPHRASE"):
        monkeypatch.delenv(name, raising=False)
    return path


def init_home(path: Path) -> Path:
    """What `tk init` does (the same function), in-process: the home every command accepts."""
    from tradekit.clock import parse_time
    from tradekit.home import Home, initialise

    initialise(Home(path), parse_time(FIXED_NOW))
    return path


@pytest.fixture
def home(bare_home: Path) -> Path:
    """A fresh TK_HOME made by `tk init` (annotated default config.toml, empty database)."""
    return init_home(bare_home)


class MovableClock:
    """A clock the test moves by hand (the exchanges' and the guard's `now`)."""

    def __init__(self, start: datetime):
        self.moment = start

    def now(self) -> datetime:
        return self.moment

    def ms(self) -> int:
        return int(self.moment.timestamp() * 1000)

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)


def script(name: str) -> str:
    """The installed console script `name` (tk-risk, ...) of this environment."""
    return str(BIN / name)


@pytest.fixture
def emulator(tmp_path: Path):
    """A Bitget emulator on a free 127.0.0.1 port, serving examples/BTCUSDT-1h.csv."""
    from tradekit.emulator.server import Emulator
    from tradekit.market.candles import read_csv
    from tradekit.market.store import CandleStore

    store = CandleStore(tmp_path / "emulator-data")
    store.merge(read_csv(ROOT / "examples" / "BTCUSDT-1h.csv", "BTCUSDT", "1h"))
    # The bundled candles end at 2026-02-19T17:00Z; the market's clock is just after.
    server = Emulator(store, market_clock=lambda: 1771524000000).serve()
    with server:
        yield server


def emulator_config(path: Path, url: str) -> Path:
    path.write_text(f'[exchange]\nurl = "{url}"\nrate_limit = false\ntimeout_ms = 5000\n')
    return path


def approve(store: Any, records: Iterable[Any], mode: str, now_ms: int) -> int:
    """Record, with tk-risk's own code, an approval of every approved TradePlan in
    `records`, as `tk-risk` in `mode` at `now_ms` would have: for tests whose subject is
    what tk-exec does with a given risk block, not how tk-risk sizes it. Returns how many."""
    from tradekit.risk.approvals import Approval, ApprovalBook, approval_digest

    approvals = [
        Approval(r.cycle_id, approval_digest(r.cycle_id, r.plan, r.risk), mode, now_ms)
        for r in records
        if r.plan is not None and r.risk is not None and r.risk.approved
    ]
    ApprovalBook(store).record(approvals)
    return len(approvals)


def record_approvals(home: Path, text: str, mode: str, now: str | None = None) -> int:
    """approve() every valid line of `text` in HOME's database, at `now` (default TK_NOW)."""
    from tradekit import jsonio
    from tradekit.clock import parse_time
    from tradekit.records import TradePlan
    from tradekit.store import Store

    records = []
    for line in text.splitlines():
        try:
            records.append(TradePlan.model_validate(jsonio.loads(line)))
        except ValueError:  # jsonio.JsonError, pydantic's ValidationError: tk-exec reports it
            continue
    now_ms = int(parse_time(now or os.environ["TK_NOW"]).timestamp() * 1000)
    with Store(home / "tradekit.db") as store:
        return approve(store, records, mode, now_ms)
