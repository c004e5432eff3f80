"""Symbols: one validator (tradekit.symbols) before a symbol becomes a path or an order;
lower case and ccxt's unified form read as the Bitget id in records, the data store,
tk-risk and tk-exec; anything else refused with a message, never a file outside TK_HOME."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import ROOT, init_home
from hypothesis import given
from hypothesis import strategies as st
from test_tk_exec import (  # noqa: F401 - paper_home is a fixture
    approved,
    lines,
    paper_account,
    paper_home,
    tk_exec,
)
from test_tk_risk import plan, run, with_candles

from tradekit.guard.tracked import Tracked
from tradekit.market.candles import read_csv
from tradekit.market.store import CandleStore
from tradekit.records import TradePlan
from tradekit.stream import Extended, InputLine, Parsed, parse_line
from tradekit.symbols import SCHEMA_PATTERN, SymbolError, bitget_symbol

NOT_A_SYMBOL = (
    "is not a Bitget USDT-M perpetual symbol (like BTCUSDT, 1000BONKUSDT, btcusdt or BTC/USDT:USDT)"
)
LONG = "A" * 300
LONG_MESSAGE = (
    f"'{'A' * 39}…' is not a symbol: 300 characters, a Bitget id has at most 24 "
    "(like BTCUSDT, 1000BONKUSDT, btcusdt or BTC/USDT:USDT)"
)


# --- what a symbol is ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "symbol"),
    [
        ("BTCUSDT", "BTCUSDT"),
        ("1000BONKUSDT", "1000BONKUSDT"),
        ("btcusdt", "BTCUSDT"),
        ("BtcUsdt", "BTCUSDT"),
        ("BTC/USDT:USDT", "BTCUSDT"),
        ("1000bonk/usdt:usdt", "1000BONKUSDT"),
        ("A" * 20 + "USDT", "A" * 20 + "USDT"),
    ],
)
def test_the_id_lower_case_and_ccxt_unified_forms_are_read_as_the_bitget_id(
    text: str, symbol: str
) -> None:
    assert bitget_symbol(text) == symbol


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("../../../escape", f"'../../../escape' {NOT_A_SYMBOL}"),
        ("BTCUSDT/../../x", f"'BTCUSDT/../../x' {NOT_A_SYMBOL}"),
        (
            "BTC/USDT",
            "'BTC/USDT' is ccxt's spot market; tradekit trades the perpetual BTC/USDT:USDT, "
            "Bitget id BTCUSDT",
        ),
        ("BTCUSD", f"'BTCUSD' {NOT_A_SYMBOL}"),  # coin-margined
        ("BTC/USD:BTC", f"'BTC/USD:BTC' {NOT_A_SYMBOL}"),
        ("BTC/USDT:USDT-250328", f"'BTC/USDT:USDT-250328' {NOT_A_SYMBOL}"),  # dated future
        ("BTC-USDT", f"'BTC-USDT' {NOT_A_SYMBOL}"),
        ("BTCUSDT\n", f"'BTCUSDT\\n' {NOT_A_SYMBOL}"),
        (" BTCUSDT", f"' BTCUSDT' {NOT_A_SYMBOL}"),
        ("USDT", f"'USDT' {NOT_A_SYMBOL}"),
        ("", f"'' {NOT_A_SYMBOL}"),
        ("ＢＴＣUSDT", f"'ＢＴＣUSDT' {NOT_A_SYMBOL}"),  # full-width letters upper-case to ASCII
        ("A" * 21 + "USDT", f"'{'A' * 21}USDT' {NOT_A_SYMBOL}"),
        (LONG, LONG_MESSAGE),
        (12, "a symbol must be text, not int"),
        (None, "a symbol must be text, not NoneType"),
    ],
)
def test_anything_else_is_refused_saying_why(text: Any, message: str) -> None:
    with pytest.raises(SymbolError) as exc:
        bitget_symbol(text)
    assert str(exc.value) == message


SYMBOLISH = st.text(alphabet="BTCusdtUSD0/:-. 1", max_size=16)


@given(SYMBOLISH)
def test_the_schema_pattern_accepts_exactly_what_the_validator_accepts(text: str) -> None:
    try:
        bitget_symbol(text)
        accepted = True
    except SymbolError:
        accepted = False
    assert (re.fullmatch(SCHEMA_PATTERN.strip("^$"), text) is not None) is accepted


# --- records ---------------------------------------------------------------------------


def parsed(text: bytes) -> Parsed[TradePlan]:
    result = parse_line(InputLine("<stdin>", 1, text), TradePlan, "risk")
    assert isinstance(result, Parsed), result
    return result


@pytest.mark.parametrize(
    "number",
    [b"65000.10", b"65000.100000000000000000001"],  # a double; exact only from the text
)
def test_a_respelled_symbol_is_written_as_the_id_and_every_other_byte_kept(number: bytes) -> None:
    line = (
        b'{"tradePlanVersion":1,"cycleId":"v5:btcusdt:1h","plan":{"side":"long",'
        b'"symbol":"btc/usdt:usdt","stopLoss":' + number + b',"mine":[1,2]},"x":null}'
    )
    record = parsed(line)
    assert record.record.plan is not None and record.record.plan.symbol == "BTCUSDT"
    assert Extended(record, {"risk": {"approved": False}}).json_bytes() == (
        b'{"tradePlanVersion":1,"cycleId":"v5:btcusdt:1h","plan":{"side":"long",'
        b'"symbol":"BTCUSDT","stopLoss":' + number + b',"mine":[1,2]},"x":null,'
        b'"risk":{"approved":false}}'
    )
    assert Extended(record, {}).json_bytes(pretty=True).count(b'"BTCUSDT"') == 1


def test_a_record_in_id_form_still_passes_byte_for_byte() -> None:
    line = b'{"tradePlanVersion": 1, "cycleId": "c",  "plan": {"symbol": "BTCUSDT"} }'
    assert Extended(parsed(line), {"risk": {"approved": True}}).json_bytes() == (
        b'{"tradePlanVersion": 1, "cycleId": "c",  "plan": {"symbol": "BTCUSDT"},'
        b'"risk":{"approved":true}}'
    )


# --- the data store --------------------------------------------------------------------


def files_under(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*"))


def test_import_with_an_escaping_symbol_is_a_usage_error_and_writes_nothing(
    tmp_path: Path, bare_home: Path
) -> None:
    deep = tmp_path / "a" / "b" / "home"  # data/../../../escape would be tmp_path/a/escape
    csv = tmp_path / "BTCUSDT-1h.csv"
    csv.write_bytes((ROOT / "examples" / "BTCUSDT-1h.csv").read_bytes())
    result = run(
        "tk", "data", "import", str(csv), "--symbol", "../../../escape", env={"TK_HOME": str(deep)}
    )
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == f"tk data: error: --symbol: '../../../escape' {NOT_A_SYMBOL}\n"
    assert files_under(tmp_path) == ["BTCUSDT-1h.csv"]


def test_lower_case_and_unified_symbols_name_one_series(tmp_path: Path, home: Path) -> None:
    source = (ROOT / "examples" / "BTCUSDT-1h.csv").read_bytes()
    csv = tmp_path / "btcusdt-1h.csv"
    csv.write_bytes(source)
    named = run("tk", "data", "import", "-q", str(csv))
    assert named.returncode == 0, named.stderr
    assert named.stdout.startswith("BTCUSDT 1h: 1500 rows read, 1500 new, 1500 stored")
    again = run("tk", "data", "import", "-q", str(csv), "--symbol", "BTC/USDT:USDT")
    assert again.stdout.startswith("BTCUSDT 1h: 1500 rows read, 0 new, 1500 stored")
    assert files_under(home / "data") == ["BTCUSDT", "BTCUSDT/1h.npy"]
    unified = run("tk", "data", "export", "btc/usdt:usdt", "1h")
    assert unified.returncode == 0, unified.stderr
    assert unified.stdout == run("tk", "data", "export", "BTCUSDT", "1h").stdout
    assert len(unified.stdout.splitlines()) == 1501


@pytest.mark.parametrize("command", ["export", "fetch"])
def test_export_and_fetch_refuse_a_symbol_that_is_none(command: str, bare_home: Path) -> None:
    result = run("tk", "data", command, "../x", "1h")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == f"tk data: error: SYMBOL: '../x' {NOT_A_SYMBOL}\n"
    assert not bare_home.exists()


def test_the_store_refuses_a_path_that_is_no_symbol_and_lists_only_series(tmp_path: Path) -> None:
    store = CandleStore(tmp_path / "data")
    with pytest.raises(SymbolError):
        store.path("../x", "1h")
    assert store.path("btcusdt", "1h") == tmp_path / "data" / "BTCUSDT" / "1h.npy"
    candles = read_csv(ROOT / "examples" / "BTCUSDT-1h.csv", "btc/usdt:usdt", "1h")
    store.merge(candles)
    (tmp_path / "data" / "notes").mkdir()
    np.save(tmp_path / "data" / "notes" / "1h.npy", candles.rows)
    assert store.series() == [("BTCUSDT", "1h")]


# --- commands that take a symbol -------------------------------------------------------


def test_tk_signal_reads_the_symbol_as_its_id_and_refuses_a_non_symbol(home: Path) -> None:
    with_candles(home)
    at = ("--at", "2026-02-19T18:00:00Z")
    lower = run("tk-signal", "v5", "--symbol", "btcusdt", *at)
    assert lower.returncode == 0, lower.stderr
    assert json.loads(lower.stdout)["cycleId"] == "v5:BTCUSDT:1h:2026-02-19T18:00:00Z"
    assert lower.stdout == run("tk-signal", "v5", "--symbol", "BTCUSDT", *at).stdout
    bad = run("tk-signal", "v5", "--symbol", "../x", *at)
    assert (bad.returncode, bad.stdout) == (2, "")
    assert bad.stderr == f"tk-signal: error: --symbol: '../x' {NOT_A_SYMBOL}\n"


def test_tk_paper_trade_refuses_the_spot_symbol(bare_home: Path) -> None:
    result = run("tk", "paper", "trade", "buy", "0.01", "--symbol", "BTC/USDT")
    assert (result.returncode, result.stdout) == (2, "")
    assert "--symbol: 'BTC/USDT' is ccxt's spot market" in result.stderr
    assert not bare_home.exists()


def test_the_risk_symbol_lists_are_read_as_ids_and_a_bad_one_is_a_config_error(
    home: Path,
) -> None:
    with_candles(home)
    config = home / "config.toml"
    config.write_text('[risk]\nsymbols = ["btc/usdt:usdt"]\nblocked_symbols = ["ethusdt"]\n')
    plans = lines(plan(), plan("c2", symbol="ETHUSDT"), plan("c3", symbol="solusdt"))
    result = run("tk-risk", "--equity", "1000", stdin=plans)
    assert result.returncode == 0, result.stderr
    btc, eth, sol = (json.loads(line)["risk"] for line in result.stdout.splitlines())
    assert btc["approved"] is True, btc
    assert eth["reasons"][0] == "ETHUSDT is in [risk] blocked_symbols"
    assert sol["reasons"][0] == "SOLUSDT is not in [risk] symbols"
    config.write_text('[risk]\nsymbols = ["BTCUSDT", "../x"]\n')
    bad = run("tk-risk", stdin=lines(plan()))
    assert (bad.returncode, bad.stdout) == (78, "")
    assert bad.stderr == (
        f"tk-risk: error: {config}: risk.symbols.1: '../x' {NOT_A_SYMBOL} (got '../x')\n"
    )


def test_a_news_symbol_that_is_no_market_is_a_config_error(home: Path) -> None:
    config = home / "config.toml"
    config.write_text('[news]\nsymbols = { btcusdt = ["btc"], BTC = ["bitcoin"] }\n')
    result = run("tk-news-gate", stdin=lines(plan()))
    assert (result.returncode, result.stdout) == (78, "")
    assert f"{config}: news.symbols: 'BTC' {NOT_A_SYMBOL}" in result.stderr


# --- tk-risk and tk-exec ---------------------------------------------------------------


def homes(tmp_path: Path, *names: str) -> list[dict[str, str]]:
    made = []
    for name in names:
        init_home(tmp_path / name)
        with_candles(tmp_path / name)
        made.append({"TK_HOME": str(tmp_path / name)})
    return made


def test_tk_risk_writes_and_journals_a_respelled_plan_as_the_plan_in_id_form(
    tmp_path: Path, home: Path
) -> None:
    canonical, respelled = homes(tmp_path, "canonical", "respelled")
    ids = lines(plan("c1"), plan("c2", side="short", stopLoss=70000))
    other = lines(plan("c1", symbol="btcusdt"), plan("c2", symbol="Btc/Usdt:Usdt", side="short",
                                                       stopLoss=70000))  # fmt: skip
    expected = run("tk-risk", "--equity", "1000", stdin=ids, env=canonical)
    result = run("tk-risk", "--equity", "1000", stdin=other, env=respelled)
    assert result.returncode == 0, result.stderr
    assert result.stdout == expected.stdout
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert first["plan"]["symbol"] == "BTCUSDT" and first["risk"]["approved"] is True
    # the one-per-symbol rule sees both spellings as one market
    assert "a BTCUSDT position is already open" in second["risk"]["reasons"]
    journal = (tmp_path / "respelled" / "logs" / "decisions.jsonl").read_text()
    assert [json.loads(e)["record"]["plan"]["symbol"] for e in journal.splitlines()] == [
        "BTCUSDT",
        "BTCUSDT",
    ]


def test_tk_exec_orders_a_respelled_plan_as_the_id_and_knows_it_again(
    paper_home: Path,  # noqa: F811 - a fixture
) -> None:
    respelled = lines(approved(symbol="btc/usdt:usdt"))
    placed = tk_exec("--paper", stdin=respelled)  # as approved by tk-risk
    assert placed.returncode == 0, placed.stderr
    [record] = [json.loads(line) for line in placed.stdout.splitlines()]
    assert record["plan"]["symbol"] == "BTCUSDT"
    assert record["execution"]["status"] == "placed", record
    [position] = paper_account(paper_home).positions("BTCUSDT")
    assert position.side == "long"
    orders = (paper_home / "logs" / "orders.jsonl").read_text().splitlines()
    assert {json.loads(line)["symbol"] for line in orders} == {"BTCUSDT"}
    again = tk_exec("--paper", stdin=lines(approved()))  # the same plan, in id form
    assert json.loads(again.stdout)["execution"]["status"] == "duplicate"


@pytest.mark.parametrize(
    ("command", "options"), [("tk-risk", ("--equity", "1000")), ("tk-exec", ())]
)
def test_a_300_character_symbol_is_a_bad_line_naming_plan_symbol(
    command: str, options: tuple[str, ...], home: Path
) -> None:
    with_candles(home)
    text = lines(plan("c1", symbol=LONG), approved("c2"))
    result = run(command, "--on-error", "skip", *options, stdin=text)
    assert result.returncode == 65, result.stderr
    assert [json.loads(line)["cycleId"] for line in result.stdout.splitlines()] == ["c2"]
    assert result.stderr.startswith(f"{command}: error: <stdin>:1: plan.symbol: {LONG_MESSAGE}; ")
    [entry] = (json.loads(e) for e in (home / "logs" / "errors.jsonl").read_text().splitlines())
    error = entry["record"]
    assert (entry["stage"], error["line"], error["field"]) == (command[3:], 1, "plan.symbol")


def test_a_guard_record_whose_symbol_is_none_is_unreadable_not_a_path() -> None:
    state = Tracked("BTCUSDT", "long", 0, Decimal(1), Decimal(1), Decimal(1)).to_json()
    assert Tracked.from_json({**state, "symbol": "btcusdt"}).symbol == "BTCUSDT"
    with pytest.raises(ValueError) as exc:
        Tracked.from_json({**state, "symbol": "../../x"})
    assert str(exc.value) == f"symbol: '../../x' {NOT_A_SYMBOL}"


def test_a_file_name_that_names_no_symbol_is_a_usage_error_naming_the_file(
    tmp_path: Path, bare_home: Path
) -> None:
    csv = tmp_path / "BTC-1h-binance.csv"
    csv.write_bytes((ROOT / "examples" / "BTCUSDT-1h.csv").read_bytes())
    result = run("tk", "data", "import", str(csv))
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == f"tk data: error: BTC-1h-binance.csv: 'BTC' {NOT_A_SYMBOL}\n"
    assert not bare_home.exists()
