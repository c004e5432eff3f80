"""The strategy DSL: parsing (precedence, Chinese keywords, errors at the token), vectorised
evaluation, the spec's validation and defaults, and `tk-signal dsl`."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, script
from pydantic import ValidationError

from tradekit import dsl
from tradekit import indicators as ind
from tradekit.market.candles import read_csv
from tradekit.strategies import load
from tradekit.strategies.dsl import DslSpec, feature_values

ENV = {
    "a": np.array([1.0, 2.0, 3.0, np.nan]),
    "b": np.array([2.0, 2.0, 1.0, 1.0]),
}


def ev(text: str) -> list[float]:
    return dsl.evaluate(dsl.parse(text, set(ENV)), ENV, 4).tolist()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a > b", [0, 0, 1, 0]),
        ("a >= b and b > 1", [0, 1, 0, 0]),
        ("a >= b 并且 b > 1", [0, 1, 0, 0]),
        ("a >= b 且 b > 1", [0, 1, 0, 0]),
        ("a < b or a > 2", [1, 0, 1, 0]),
        ("a < b 或者 a > 2", [1, 0, 1, 0]),
        ("a<b或a>2", [1, 0, 1, 0]),
        ("a < b || a > 2", [1, 0, 1, 0]),
        ("not a > b", [1, 1, 0, 1]),  # not (a > b); NaN > b is false
        ("!(a > b) && b < 2", [0, 0, 0, 1]),
        ("1 + 2 * 3 == 7", [1, 1, 1, 1]),
        ("-a + 4", [3, 2, 1, float("nan")]),
        ("a % 2", [1, 0, 1, float("nan")]),
        ("max(a, b, 2.5)", [2.5, 2.5, 3, 2.5]),
        ("pow(b, 2) + abs(-1) + sqrt(4) + round(0.4) + floor(1.9) + ceil(0.1)", [9, 9, 6, 6]),
        ("a > 1 ? 10 : 20", [20, 10, 10, 20]),
        ("true and null", [0, 0, 0, 0]),
    ],
)
def test_expressions(text: str, expected: list[float]) -> None:
    np.testing.assert_array_equal(ev(text), expected)


@pytest.mark.parametrize(
    ("text", "column", "message"),
    [
        ("a >> b", 4, "expected a value, found '>'"),
        ("a > c", 5, "unknown name 'c' (known: a, b)"),
        ("a < b < 3", 7, "chained comparison"),
        ("max(a)", 1, "max() takes 2 to 8 argument(s), got 1"),
        ("abs", 1, "abs is a function: call it"),
        ("eval(a)", 1, "unknown function 'eval'"),
        ("(a > b", 7, "expected ')', found the end"),
        ("a > b;", 6, "unexpected character ';'"),
        ("", 1, "empty expression"),
        ("__import__('os')", 12, "unexpected character"),
    ],
)
def test_errors_point_at_the_token(text: str, column: int, message: str) -> None:
    with pytest.raises(dsl.DslError) as exc:
        dsl.parse(text, set(ENV))
    assert exc.value.column == column
    assert message in str(exc.value)
    caret_line = str(exc.value).splitlines()[-1]
    assert caret_line == "    " + " " * (column - 1) + "^"


def test_caret_accounts_for_wide_characters() -> None:
    with pytest.raises(dsl.DslError) as exc:
        dsl.parse("a > b 并且 >", set(ENV))
    assert str(exc.value).splitlines()[-1] == "    " + " " * 11 + "^"  # 7 narrow + 2 wide


SPEC = {
    "name": "t",
    "features": [
        {"name": "fast", "kind": "ema", "period": 5},
        {"name": "lagged", "kind": "price", "source": "hl2", "shift": 2},
        {"name": "hh", "kind": "donchian_high", "lookback": 3},
        {"name": "k", "kind": "constant", "value": 1.5},
    ],
    "entryLong": "close > fast",
    "entryShort": "close < fast",
    "risk": {"cooldownBars": 0},
}


def test_spec_validation_names_the_field() -> None:
    cases = [
        ({"features": [{"name": "Bad", "kind": "ema"}]}, "features.0.name"),
        ({"features": [{"name": "x", "kind": "ema", "shift": -1}]}, "features.0.shift"),
        ({"features": [{"name": "close", "kind": "ema"}]}, "features.0"),
        ({"features": [{"name": "c", "kind": "constant"}]}, "features.0"),
        ({"features": [{"name": "x", "kind": "ema"}] * 2}, ""),
        ({"risk": {"stopAtr": 50}}, "risk.stopAtr"),
        ({"entrylong": "1"}, "entrylong"),
    ]
    for spec, field in cases:
        with pytest.raises(ValidationError) as exc:
            DslSpec.model_validate(spec)
        assert ".".join(str(p) for p in exc.value.errors()[0]["loc"]) == field, spec


def test_rule_defaults() -> None:
    with_feature = DslSpec.model_validate({"features": [{"name": "f", "kind": "sma"}]})
    assert with_feature.rules() == {
        "entryLong": "close > f",
        "entryShort": "close < f",
        "exitLong": "close < f",
        "exitShort": "close > f",
    }
    assert DslSpec().rules()["entryLong"] == "close > open"
    assert DslSpec.model_validate(SPEC).risk.cooldown_bars == 0  # the seed forced 0 to 2


def test_features_and_one_side_rule() -> None:
    candles = read_csv(ROOT / "examples" / "BTCUSDT-1h.csv", "BTCUSDT", "1h")
    bars = {name: candles.column(name) for name in ("open", "high", "low", "close", "volume")}
    spec = DslSpec.model_validate(SPEC)
    fast, lagged, hh, k = (feature_values(f, bars) for f in spec.features)
    np.testing.assert_array_equal(fast, ind.ema(bars["close"], 5))
    hl2 = (bars["high"] + bars["low"]) / 2
    np.testing.assert_array_equal(lagged[2:], hl2[:-2])
    assert np.isnan(lagged[:2]).all()
    assert hh[10] == bars["high"][7:10].max()  # the 3 bars before bar 10
    assert set(k.tolist()) == {1.5}
    both = DslSpec.model_validate({**SPEC, "entryLong": "close > 0", "entryShort": "close > 0"})
    ev_both = load("dsl").evaluate({"1h": candles}, both)
    assert set(ev_both.side) == {None}  # both sides true: no entry
    ev_long = load("dsl").evaluate(
        {"1h": candles}, DslSpec.model_validate({**SPEC, "side": "long"})
    )
    close = bars["close"]
    expected = np.where(close > fast, "long", None)
    assert ev_long.side.tolist() == expected.tolist()


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, check=False, cwd=ROOT, timeout=60)


def test_tk_signal_dsl(home: Path, tmp_path: Path) -> None:
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(SPEC))
    common = ["--data", "examples/BTCUSDT-1h.csv", "--now", "2026-02-19T18:00:00Z"]
    result = run(script("tk-signal"), "dsl", "--spec", str(spec), *common)
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["cycleId"] == "dsl:BTCUSDT:1h:2026-02-19T18:00:00Z"
    context = (record["plan"] or record)["context"]
    assert {"fast", "lagged", "hh", "k", "exitLong", "exitShort"} <= set(context)
    missing = run(script("tk-signal"), "dsl", *common)
    assert missing.returncode == 2 and "needs --spec" in missing.stderr
    spec.write_text(json.dumps({**SPEC, "entryLong": "close > fsat"}))
    bad = run(script("tk-signal"), "dsl", "--spec", str(spec), *common)
    assert bad.returncode == 65
    assert f"{spec}: column 9: entryLong: unknown name 'fsat'" in bad.stderr
    assert "Traceback" not in bad.stderr
