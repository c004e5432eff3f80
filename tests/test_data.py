"""tk data and the candle layer: validation with line numbers, gaps, merge, resample."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from conftest import OHLCV, ROOT, script

from tradekit.errors import BadInputError, UsageError
from tradekit.exitstatus import ExitStatus
from tradekit.market.candles import Candles, read_csv, resample, timeframe_ms
from tradekit.market.store import CandleStore

REAL_1H = OHLCV / "BTCUSDT-1h-binancefutures-marketlab.csv"
H = 3_600_000
HEADER = "ts,open,high,low,close,volume\n"


def csv(tmp_path: Path, rows: list[str], name: str = "BTCUSDT-1h-test.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + "".join(row + "\n" for row in rows))
    return path


def bar(i: int, price: float = 100.0) -> str:
    return f"{i * H},{price},{price + 1},{price - 1},{price + 0.5},10"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, check=False, timeout=120)


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([bar(0), "3600000,1,2,0.5"], ":3: expected 6 fields, got 4"),
        ([bar(0), "3600000,1,x,0.5,1,1"], ":3: not a number in '3600000,1,x,0.5,1,1'"),
        ([bar(1), bar(0)], "timestamps out of order (row 2 goes back in time)"),
        ([bar(0), bar(0)], "1 duplicate timestamp(s)"),
        ([bar(0), "3600001,1,2,0.5,1,1"], "not on the 60-minute grid"),
        ([bar(0), "3600000,nan,2,0.5,1,1"], "NaN or infinite values"),
        ([bar(0), "3600000,0,2,0,1,1"], "1 bar(s) with a price <= 0"),
        ([bar(0), "3600000,5,4,3,2,1"], "high/low do not contain open and close"),
    ],
)
def test_bad_candles_are_refused_naming_file_and_line(
    tmp_path: Path, rows: list[str], message: str
) -> None:
    path = csv(tmp_path, rows)
    with pytest.raises(BadInputError) as exc:
        read_csv(path, "BTCUSDT", "1h")
    assert str(exc.value).startswith(str(path))
    assert message in str(exc.value)


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("time,o,h,l,v", r"x\.csv:1: no 'close' column in \['time', 'o', 'h', 'l', 'v'\]"),
        ("when,open,high,low,close", r"x\.csv:1: no time column \(one of: ts, timestamp, "),
        ("", r"x\.csv: empty file"),
    ],
)
def test_a_header_without_the_columns_is_refused(tmp_path: Path, header: str, message: str):
    path = tmp_path / "x.csv"
    path.write_text(header + "\n" if header else "")
    with pytest.raises(BadInputError, match=message):
        read_csv(path, "BTCUSDT", "1h")


def test_wrong_header_and_timeframe(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not a timeframe"):
        timeframe_ms("1y")


def test_gaps_are_kept_and_reported(tmp_path: Path, home: Path) -> None:
    path = csv(tmp_path, [bar(0), bar(1), bar(4), bar(5)])
    result = run(script("tk"), "data", "import", str(path))
    assert result.returncode == 0, result.stderr
    assert "4 rows read, 4 new, 4 stored" in result.stdout
    assert "1 gap(s), 2 missing bar(s)" in result.stdout
    assert "gap after 1970-01-01T01:00:00Z: 2 bar(s)" in result.stderr
    listing = json.loads(run(script("tk"), "data", "ls", "--json").stdout)
    assert (listing["rows"], listing["gaps"], listing["missingBars"]) == (4, 1, 2)


def test_bad_file_exits_65_without_traceback(tmp_path: Path, home: Path) -> None:
    result = run(script("tk"), "data", "import", str(csv(tmp_path, [bar(1), bar(0)])))
    assert result.returncode == ExitStatus.BAD_INPUT
    assert "out of order" in result.stderr and "Traceback" not in result.stderr


def test_merge_adds_new_bars_and_refuses_conflicting_ones(tmp_path: Path) -> None:
    store = CandleStore(tmp_path / "data")
    first = read_csv(csv(tmp_path, [bar(0), bar(1)]), "BTCUSDT", "1h")
    assert store.merge(first) == (2, 2)
    more = read_csv(csv(tmp_path, [bar(1), bar(2)], "b.csv"), "BTCUSDT", "1h")
    assert store.merge(more) == (1, 3)
    clash = read_csv(csv(tmp_path, [bar(2, price=200.0)], "c.csv"), "BTCUSDT", "1h")
    with pytest.raises(BadInputError, match="already stored with different values"):
        store.merge(clash)
    assert len(store.load("BTCUSDT", "1h")) == 3


def test_resample_builds_only_complete_bars(tmp_path: Path) -> None:
    hours = [bar(i, 100.0 + i) for i in range(4)] + [bar(i, 100.0 + i) for i in (4, 5, 7)]
    candles = read_csv(csv(tmp_path, hours), "BTCUSDT", "1h")
    four = resample(candles, "4h")
    assert four.ts.tolist() == [0]  # 4h..8h lacks the 6h bar: left out, not half-built
    assert four.rows[0].tolist() == (0, 100.0, 104.0, 99.0, 103.5, 40.0)
    with pytest.raises(UsageError):
        resample(candles, "90m")


def test_closed_at_drops_the_forming_bar(tmp_path: Path) -> None:
    candles = read_csv(csv(tmp_path, [bar(0), bar(1), bar(2)]), "BTCUSDT", "1h")
    assert candles.closed_at(3 * H).ts.tolist() == [0, H, 2 * H]
    assert candles.closed_at(3 * H - 1).ts.tolist() == [0, H]


def test_real_file_round_trips_byte_for_byte(tmp_path: Path, home: Path) -> None:
    assert run(script("tk"), "data", "import", str(REAL_1H)).returncode == 0
    exported = run(script("tk"), "data", "export", "BTCUSDT", "1h")
    assert exported.returncode == 0
    assert exported.stdout == REAL_1H.read_text()


def test_store_resamples_when_a_timeframe_is_not_stored(tmp_path: Path) -> None:
    store = CandleStore(tmp_path / "data")
    store.merge(read_csv(csv(tmp_path, [bar(i) for i in range(8)]), "BTCUSDT", "1h"))
    four = store.load_or_resample("BTCUSDT", "4h")
    assert isinstance(four, Candles) and len(four) == 2
    with pytest.raises(UsageError, match=r"no BTCUSDT 15m candles .* \(stored: 1h\)"):
        store.load_or_resample("BTCUSDT", "15m")
    assert np.array_equal(store.load("BTCUSDT", "1h").ts, np.arange(8) * H)


def _vendor_files(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """The bundled candles' first 48 bars as three vendors write them."""
    from datetime import UTC, datetime

    native = (ROOT / "examples" / "BTCUSDT-1h.csv").read_text().splitlines()[1:49]
    rows = [line.split(",") for line in native]
    binance = tmp_path / "binance.csv"  # open_time in ms, extra columns, other order
    binance.write_text(
        "open_time,open,high,low,close,volume,close_time,quote_volume,count\n"
        + "".join(
            f"{t},{o},{h},{lo},{c},{v},{int(t) + 3599999},1.5,7\n" for t, o, h, lo, c, v in rows
        )
    )
    seconds = tmp_path / "seconds.csv"  # timestamp in epoch seconds; semicolons
    seconds.write_text(
        "Timestamp;Close;High;Low;Open;Volume\n"
        + "".join(f"{int(t) // 1000};{c};{h};{lo};{o};{v}\n" for t, o, h, lo, c, v in rows)
    )
    iso = tmp_path / "iso.csv"  # a date column in ISO 8601 without a zone (UTC)
    iso.write_text(
        "date,symbol,open,high,low,close,volume\n"
        + "".join(
            f"{datetime.fromtimestamp(int(t) / 1000, UTC):%Y-%m-%d %H:%M:%S},BTCUSDT,"
            f"{o},{h},{lo},{c},{v}\n"
            for t, o, h, lo, c, v in rows
        )
    )
    return {
        "binance": (binance, "time from 'open_time' as epoch ms; ignored 'close_time', "
                    "'quote_volume', 'count'"),
        "seconds": (seconds, "time from 'Timestamp' as epoch seconds"),
        "iso": (iso, "time from 'date' as ISO 8601; ignored 'symbol'"),
    }  # fmt: skip


@pytest.mark.parametrize("vendor", ["binance", "seconds", "iso"])
def test_exchange_and_vendor_exports_import_as_the_same_candles(
    tmp_path: Path, home: Path, vendor: str
) -> None:
    from tradekit.market.store import CandleStore

    path, detected = _vendor_files(tmp_path)[vendor]
    run(script("tk"), "init")
    result = run(script("tk"), "data", "import", str(path), "--symbol", "BTCUSDT")
    assert result.returncode == 0, result.stderr
    assert result.stderr == f"tk data: note: {path}: {detected}\n"
    assert result.stdout.startswith(
        "BTCUSDT 1h: 48 rows read, 48 new, 48 stored "
        "(2025-12-19T06:00:00Z .. 2025-12-21T05:00:00Z), 0 gap(s)"
    )
    stored = CandleStore(home / "data").load("BTCUSDT", "1h")
    expected = read_csv(ROOT / "examples" / "BTCUSDT-1h.csv", "BTCUSDT", "1h").rows[:48]
    assert stored.rows.tolist() == expected.tolist()


def test_import_reads_stdin(tmp_path: Path, home: Path) -> None:
    run(script("tk"), "init")
    path, _ = _vendor_files(tmp_path)["seconds"]
    piped = subprocess.run(
        [script("tk"), "data", "import", "-", "--symbol", "BTCUSDT"], input=path.read_text(),
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert piped.returncode == 0, piped.stderr
    assert piped.stderr == "tk data: note: <stdin>: time from 'Timestamp' as epoch seconds\n"
    assert "48 rows read, 48 new" in piped.stdout
    nameless = subprocess.run(
        [script("tk"), "data", "import", "-"], input="", capture_output=True, text=True,
        check=False,
    )  # fmt: skip
    assert (nameless.returncode, nameless.stderr) == (
        2, "tk data: error: cannot tell the symbol from stdin: pass --symbol\n",
    )  # fmt: skip
