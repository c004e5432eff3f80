"""Tables for people: rich on a terminal (or with FORCE_COLOR), plain and stable when
piped, TERM=dumb plain, NO_COLOR without colours; cell text is never read as markup."""

from __future__ import annotations

import io
import os
import subprocess
from pathlib import Path

import pytest
from conftest import ROOT, script

from tradekit.cli.tables import Column, Table, plain, show

ESC = "\x1b["


def table() -> Table:
    prices = Table((Column("symbol"), Column("price", numeric=True), Column("note")))
    prices.add("BTCUSDT", "66287.5", "[bold]not markup[/bold]")
    prices.add("1000BONKUSDT", "0.02", None)
    return prices


def test_plain_is_aligned_numbers_right_and_no_trailing_spaces() -> None:
    assert plain(table()) == (
        "symbol          price  note\n"
        "BTCUSDT       66287.5  [bold]not markup[/bold]\n"
        "1000BONKUSDT     0.02  -\n"
    )


def test_a_row_of_the_wrong_width_is_a_bug_caught_at_once() -> None:
    with pytest.raises(ValueError, match="2 cells for 3 columns"):
        table().add("a", "b")


@pytest.mark.parametrize(
    ("env", "drawn"),
    [({}, False), ({"FORCE_COLOR": "1"}, True), ({"FORCE_COLOR": "1", "TERM": "dumb"}, False)],
)
def test_when_tables_are_drawn(monkeypatch: pytest.MonkeyPatch, env: dict, drawn: bool) -> None:
    for name in ("FORCE_COLOR", "NO_COLOR", "TERM"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    out = io.StringIO()  # not a terminal
    show(table(), stream=out)
    if drawn:
        assert "┏" in out.getvalue() and "│ BTCUSDT" in out.getvalue()
        assert "[bold]not markup[/bold]" in out.getvalue()  # shown as written
    else:
        assert out.getvalue() == plain(table())


def _tk(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "NO_COLOR")}
    return subprocess.run(
        [script("tk"), *args], capture_output=True, text=True, check=False, timeout=60,
        env={**clean, "COLUMNS": "120", **env},
    )  # fmt: skip


def test_tk_data_ls_piped_forced_and_without_colour(home: Path) -> None:
    _tk("init")
    _tk("data", "import", str(ROOT / "examples" / "BTCUSDT-1h.csv"))
    piped = _tk("data", "ls")
    assert piped.stdout == (
        "symbol   timeframe  rows  first                 last                  gaps  "
        "missing bars\n"
        "BTCUSDT  1h         1500  2025-12-19T06:00:00Z  2026-02-19T17:00:00Z     0  "
        "           0\n"
    )
    forced = _tk("data", "ls", FORCE_COLOR="1")
    assert forced.stdout.startswith("┏") and "│ BTCUSDT │ 1h" in forced.stdout
    assert f"{ESC}1m" in forced.stdout  # the header is bold


def test_no_color_keeps_messages_plain_of_colour(home: Path) -> None:
    coloured = _tk("data", "ls", FORCE_COLOR="1")  # no home: a note on stderr
    assert f"{ESC}36m" in coloured.stderr  # cyan "note"
    uncoloured = _tk("data", "ls", FORCE_COLOR="1", NO_COLOR="1")
    assert ESC + "36m" not in uncoloured.stderr and "note" in uncoloured.stderr
    assert "no candles stored" in uncoloured.stderr
