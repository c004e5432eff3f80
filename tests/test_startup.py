"""Start-up is part of the product: stages that do not talk to an exchange never import
ccxt (nor rich/numpy unless they print to a terminal). Checked in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SEED_PLAN, init_home

HEAVY = ("ccxt", "rich", "numpy", "aiohttp", "requests")
PROBE = """
import json, sys
sys.argv = ["{prog}", *{args!r}]
from tradekit.cli.{module} import main
try:
    main()
except SystemExit as exc:
    status = exc.code
loaded = [name for name in {heavy!r} if name in sys.modules]
sys.stderr.write("PROBE " + json.dumps({{"status": status, "loaded": loaded}}) + "\\n")
"""


def probe(
    module: str, prog: str, args: list[str], stdin: str, home: Path, *, template: str = PROBE
) -> dict:
    init_home(home)  # the commands that keep state refuse a home tk init did not make
    code = template.format(prog=prog, args=args, module=module, heavy=HEAVY)
    result = subprocess.run(
        [sys.executable, "-c", code],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        env={"TK_HOME": str(home), "PATH": "/usr/bin:/bin"},
    )
    line = [ln for ln in result.stderr.splitlines() if ln.startswith("PROBE ")][-1]
    return json.loads(line.removeprefix("PROBE "))


STAGE_INPUTS = {
    "news_gate": SEED_PLAN,
    "exec": SEED_PLAN,
    "report": SEED_PLAN,
    "parse_tg": '{"record":"telegram_message","channel":"c","messageId":1,"text":"BTC LONG 96000",'
    '"date":"2026-11-20T10:00:00Z"}',
}


def test_the_paper_guard_loads_the_candles_but_not_ccxt(tmp_path: Path) -> None:
    # tk-guard reads an account: the paper one needs numpy (its prices are candles)
    outcome = probe("guard", "tk-guard", ["--paper"], "", tmp_path)
    assert outcome == {"status": 0, "loaded": ["numpy"]}


@pytest.mark.parametrize("module", sorted(STAGE_INPUTS))
def test_a_record_through_a_stage_imports_nothing_heavy(module: str, tmp_path: Path) -> None:
    outcome = probe(module, f"tk-{module}", [], STAGE_INPUTS[module] + "\n", tmp_path)
    assert outcome == {"status": 0, "loaded": []}


def test_risk_needs_numpy_for_candles_but_never_ccxt_unless_live(tmp_path: Path) -> None:
    outcome = probe("risk", "tk-risk", [], SEED_PLAN + "\n", tmp_path)
    assert outcome == {"status": 0, "loaded": ["numpy"]}


def test_signal_imports_numpy_but_never_ccxt(tmp_path: Path) -> None:
    listing = probe("signal", "tk-signal", ["--list"], "", tmp_path)
    assert listing == {"status": 0, "loaded": []}
    data = str(Path(__file__).resolve().parent.parent / "examples" / "BTCUSDT-1h.csv")
    args = ["v5", "--data", data, "--now", "2026-02-19T18:00:00Z"]
    evaluation = probe("signal", "tk-signal", args, "", tmp_path)
    assert evaluation == {"status": 0, "loaded": ["numpy"]}


@pytest.mark.parametrize("module", ["risk", "exec", "init", "status", "signal"])
def test_help_imports_nothing_heavy(module: str, tmp_path: Path) -> None:
    outcome = probe(module, f"tk-{module}", ["--help"], "", tmp_path)
    assert outcome == {"status": 0, "loaded": []}


def test_the_probe_can_see_a_heavy_import(tmp_path: Path) -> None:
    """Guard against a probe that always passes: rich is loaded when a report goes to a tty."""
    code = PROBE.format(prog="x", args=[], module="news_gate", heavy=HEAVY).replace(
        "from tradekit.cli.news_gate import main",
        "import rich.console\nfrom tradekit.cli.news_gate import main",
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        input="",
        capture_output=True,
        text=True,
        check=False,
        env={"TK_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert '"loaded": ["rich"]' in result.stderr


def test_parse_tg_text_mode_imports_nothing_heavy_and_less_than_tk_risk(tmp_path: Path) -> None:
    text = probe("parse_tg", "tk-parse-tg", ["--text"], "BTC LONG\\nEntry: 96000\n", tmp_path)
    assert text == {"status": 0, "loaded": []}
    counting = PROBE.replace('"loaded": loaded', '"loaded": len(sys.modules)')
    stdin = "BTC LONG\\nEntry: 96000\n"
    parse_tg = probe("parse_tg", "x", ["--text"], stdin, tmp_path / "a", template=counting)[
        "loaded"
    ]
    risk = probe("risk", "x", [], SEED_PLAN + "\n", tmp_path / "b", template=counting)["loaded"]
    assert 0 < parse_tg <= risk
