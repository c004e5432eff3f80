"""tk-signal as a whole: --replay equals --at bar by bar, and gaps are never used."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from conftest import ROOT, script

from tradekit.market.candles import Candles, read_csv
from tradekit.market.store import CandleStore
from tradekit.signals import prepare, records

CSV = ROOT / "examples" / "BTCUSDT-1h.csv"
NOW = datetime(2026, 2, 19, 18, tzinfo=UTC)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, check=False, timeout=120)


def test_replay_equals_at_bar_by_bar(tmp_path: Path) -> None:
    store = CandleStore(tmp_path)
    common = {
        "table": {},
        "config_source": "-",
        "symbol": "BTCUSDT",
        "store": store,
        "data_file": CSV,
        "now": NOW,
    }
    start = datetime(2026, 2, 15, tzinfo=UTC)
    replayed = list(records(prepare("v5", **common, replay=(start, NOW)), dry_run=False))
    assert len(replayed) == 4 * 24 + 18 + 1
    for offset, record in enumerate(replayed):
        at = start + timedelta(hours=offset)
        single = list(records(prepare("v5", **common, at=at), dry_run=False))
        assert single == [record], at
    assert any(record["plan"] for record in replayed)


def test_dsl_replay_equals_at_with_its_position(tmp_path: Path) -> None:
    """The position behind each bar (entry, stop and target, exits, cooldown) is the same
    whether the bar is the last of --at or one of a --replay."""
    spec = json.loads((ROOT / "examples" / "dsl-ema-adx.json").read_text())
    spec["risk"] = {"stopAtr": 1.8, "tpAtr": 3.0, "maxHold": 6, "cooldownBars": 2}
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec))
    common = {
        "table": {},
        "config_source": "-",
        "symbol": "BTCUSDT",
        "store": CandleStore(tmp_path),
        "data_file": CSV,
        "now": NOW,
        "spec_file": path,
    }
    start = datetime(2026, 1, 30, tzinfo=UTC)
    replayed = list(records(prepare("dsl", **common, replay=(start, NOW)), dry_run=False))
    for offset, record in enumerate(replayed):
        at = start + timedelta(hours=offset)
        assert list(records(prepare("dsl", **common, at=at), dry_run=False)) == [record], at
    notes = {(record["plan"] or record)["context"]["note"] for record in replayed}
    actions = {record["plan"]["action"] for record in replayed if record["plan"]}
    assert actions == {"open", "close"}
    assert {"holding", "cooldown", "maxHold"} <= notes


def test_a_gap_is_never_used(home: Path, tmp_path: Path) -> None:
    candles = read_csv(CSV, "BTCUSDT", "1h")
    holed = np.delete(candles.rows, range(1400, 1403))  # three bars missing
    CandleStore(home / "data").merge(Candles("BTCUSDT", "1h", holed))
    result = run(script("tk-signal"), "v5", "--now", "2026-02-19T18:00:00Z")
    assert result.returncode == 65
    assert json.loads(result.stdout)["context"]["note"] == "gap_in_ohlcv"
    assert "a gap in the data: 3 missing 1h bar(s) after 2026-02-15T13:00:00Z" in result.stderr
    replay = run(
        script("tk-signal"),
        "v5",
        "--now",
        "2026-02-19T18:00:00Z",
        "--replay",
        "2026-02-01",
        "2026-02-20",
    )
    notes = [
        json.loads(line)["context"]["note"] if not json.loads(line)["plan"] else "plan"
        for line in replay.stdout.splitlines()
    ]
    assert replay.returncode == 0
    assert notes[-1] == "gap_in_ohlcv" and "gap_in_ohlcv" in notes
    first_gap = notes.index("gap_in_ohlcv")
    assert set(notes[first_gap:]) == {"gap_in_ohlcv"}  # every bar within 200 after the gap
