"""The strategy DSL: parsing (precedence, Chinese keywords, errors at the token), vectorised
evaluation, the spec's validation and defaults, and `tk-signal dsl`."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
import talib
from conftest import ROOT, script
from pydantic import ValidationError

from tradekit import dsl
from tradekit import indicators as ind
from tradekit.market.candles import Candles, read_csv
from tradekit.market.store import CandleStore
from tradekit.signals import prepare, records
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
    opens = ev_long.action == "open"
    assert opens.sum() > 10 and set(ev_long.side[opens]) == {"long"}
    assert (close[opens] > fast[opens]).all()


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
    assert bad.returncode == 78
    assert f"{spec}: column 9: entryLong: unknown name 'fsat'" in bad.stderr
    assert "Traceback" not in bad.stderr


# -- the position: stop and target, exit rules, maxHold, cooldown ---------------------------

CSV = ROOT / "examples" / "BTCUSDT-1h.csv"
EXAMPLE = json.loads((ROOT / "examples" / "dsl-ema-adx.json").read_text())
#: wide stop and target, exits that never fire: only maxHold, reverse and cooldown act
NO_EXITS = {
    "name": "t",
    "side": "long",
    "entryLong": "close > open",
    "exitLong": "close < 0",
    "risk": {"stopAtr": 20, "tpAtr": 40, "maxHold": 5, "cooldownBars": 0},
}


def bars() -> dict[str, np.ndarray]:
    candles = read_csv(CSV, "BTCUSDT", "1h")
    columns = {name: candles.column(name) for name in ("open", "high", "low", "close")}
    return {**columns, "ts": candles.ts, "atr": talib.ATR(*(columns[k] for k in HLC), 14)}


HLC = ("high", "low", "close")


def every_bar(spec: dict, tmp_path: Path) -> list[dict]:
    """tk-signal's records for every bar of the bundled data, in order."""
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec))
    prepared = prepare(
        "dsl",
        table={},
        config_source="-",
        symbol="BTCUSDT",
        store=CandleStore(tmp_path),
        data_file=CSV,
        now=datetime(2026, 2, 19, 18, tzinfo=UTC),
        replay=(datetime(2020, 1, 1, tzinfo=UTC), datetime(2026, 2, 19, 18, tzinfo=UTC)),
        spec_file=path,
    )
    out = list(records(prepared, dry_run=True))
    assert len(out) == len(bars()["close"])
    return out


def plan_bars(out: list[dict], action: str, note: str | None = None) -> list[int]:
    return [
        i
        for i, record in enumerate(out)
        if record["plan"]
        and record["plan"]["action"] == action
        and note in (None, record["plan"]["context"]["note"])
    ]


def note_of(record: dict) -> str:
    return (record["plan"] or record)["context"]["note"]


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def atr_levels(side: str, close: float, atr: float, stop_atr: str, tp_atr: str):
    """The stop and the target as the seed defines them: max(ATR x mult, 0.12 % close)."""
    price, range_ = Decimal(repr(float(close))), Decimal(repr(float(atr)))
    floor, sign = price * Decimal("0.0012"), 1 if side == "long" else -1
    stop = price - sign * max(range_ * Decimal(stop_atr), floor)
    target = price + sign * max(range_ * Decimal(tp_atr), floor)
    return stop.quantize(Decimal("1e-8")), target.quantize(Decimal("1e-8"))


def test_an_open_carries_the_stop_and_target_of_the_risk_block(tmp_path: Path) -> None:
    out, b = every_bar(EXAMPLE, tmp_path), bars()
    opens = plan_bars(out, "open")
    assert len(opens) > 20
    assert {out[i]["plan"]["side"] for i in opens} == {"long", "short"}
    for i in opens:
        side = out[i]["plan"]["side"]
        stop, target = atr_levels(side, b["close"][i], b["atr"][i], "1.8", "3.0")
        assert (out[i]["plan"]["stopLoss"], out[i]["plan"]["takeProfits"]) == (stop, [target])
    first = opens[0]
    plan = dict(out[first]["plan"])
    context = plan.pop("context")
    stop, target = atr_levels(plan["side"], b["close"][first], b["atr"][first], "1.8", "3.0")
    rule = EXAMPLE["entryLong" if plan["side"] == "long" else "entryShort"]
    assert plan == {
        "symbol": "BTCUSDT",
        "side": plan["side"],
        "level": "strong",
        "reason": f"dsl ema-adx: {'entryLong' if plan['side'] == 'long' else 'entryShort'}: {rule}",
        "action": "open",
        "source": {
            "kind": "strategy",
            "strategy": "dsl",
            "timeframe": "1h",
            "barTime": iso(int(b["ts"][first])),
            "spec": str((tmp_path / "spec.json").resolve()),
        },
        "stopLoss": stop,
        "takeProfits": [target],
    }
    assert (context["note"], context["position"], context["heldBars"]) == (
        "signal",
        plan["side"],
        0,
    )


def test_the_atr_floor_of_a_tight_stop_is_0_12_percent(tmp_path: Path) -> None:
    spec = {**NO_EXITS, "risk": {"stopAtr": 0.2, "tpAtr": 0.2, "maxHold": 5}}
    out, b = every_bar(spec, tmp_path), bars()
    floored = [i for i in plan_bars(out, "open") if b["atr"][i] * 0.2 < b["close"][i] * 0.0012]
    assert floored
    for i in floored:
        price = Decimal(repr(float(b["close"][i])))
        expected = (price - price * Decimal("0.0012")).quantize(Decimal("1e-8"))
        assert out[i]["plan"]["stopLoss"] == expected


def test_an_exit_rule_gives_a_close_plan(tmp_path: Path) -> None:
    out, b = every_bar(EXAMPLE, tmp_path), bars()
    ema_slow = talib.EMA(b["close"], 50)
    exits = plan_bars(out, "close", "exitLong") + plan_bars(out, "close", "exitShort")
    assert plan_bars(out, "close", "exitLong") and plan_bars(out, "close", "exitShort")
    for x in exits:
        side = out[x]["plan"]["side"]
        entry = max(i for i in plan_bars(out, "open") if i < x)
        assert out[entry]["plan"]["side"] == side
        rule_fires = (b["close"] < ema_slow) if side == "long" else (b["close"] > ema_slow)
        assert rule_fires[x] and not rule_fires[entry + 1 : x].any()
        stop, [target] = out[entry]["plan"]["stopLoss"], out[entry]["plan"]["takeProfits"]
        lows, highs = b["low"][entry + 1 : x + 1], b["high"][entry + 1 : x + 1]
        if side == "long":
            assert (lows > float(stop)).all() and (highs < float(target)).all()
        else:
            assert (highs < float(stop)).all() and (lows > float(target)).all()
        assert all(out[i]["plan"] is None for i in range(entry + 1, x))  # no second entry
        key = "exitLong" if side == "long" else "exitShort"
        plan = dict(out[x]["plan"])
        context = plan.pop("context")
        assert plan == {
            "symbol": "BTCUSDT",
            "side": side,
            "level": "strong",
            "reason": f"dsl ema-adx: {key}: {EXAMPLE[key]}",
            "action": "close",
            "source": {
                "kind": "strategy",
                "strategy": "dsl",
                "timeframe": "1h",
                "barTime": iso(int(b["ts"][x])),
                "spec": str((tmp_path / "spec.json").resolve()),
            },
        }
        assert (context["position"], context["heldBars"]) == (None, x - entry)


def test_max_hold_closes_after_n_bars(tmp_path: Path) -> None:
    out, b = every_bar(NO_EXITS, tmp_path), bars()
    opens = plan_bars(out, "open")
    assert len(opens) > 50
    for entry in opens[:-1]:
        x = entry + 5
        assert [note_of(out[i]) for i in range(entry + 1, x)] == ["holding"] * 4
        plan = out[x]["plan"]
        assert (plan["action"], plan["side"], plan["context"]["note"]) == (
            "close",
            "long",
            "maxHold",
        )
        since = iso(int(b["ts"][entry]))
        assert plan["reason"] == f"dsl t: maxHold: 5 bars in the long since {since}"
        # cooldownBars 0: the next entry is the first bar after the close where the rule fires
        after = next(i for i in range(x + 1, len(out)) if b["close"][i] > b["open"][i])
        assert min(i for i in opens if i > entry) == after


def test_no_entry_within_cooldown_bars_of_an_exit(tmp_path: Path) -> None:
    spec = {**NO_EXITS, "risk": {**NO_EXITS["risk"], "maxHold": 2, "cooldownBars": 3}}
    out, b = every_bar(spec, tmp_path), bars()
    up = b["close"] > b["open"]
    closes = plan_bars(out, "close", "maxHold")
    assert len(closes) > 50
    blocked = 0
    for x in closes[:-1]:
        for i in range(x + 1, x + 4):
            assert out[i]["plan"] is None
            assert note_of(out[i]) == ("cooldown" if up[i] else "no_setup")
            blocked += int(up[i])
        after = next(i for i in range(x + 4, len(out)) if up[i])
        assert min(i for i in plan_bars(out, "open") if i > x) == after
    assert blocked > 50  # the rule fired inside the cooldown and was held back


def test_stop_and_target_end_the_position_without_a_plan(tmp_path: Path) -> None:
    spec = {**NO_EXITS, "risk": {"stopAtr": 0.5, "tpAtr": 0.5, "maxHold": 3000}}
    out, b = every_bar(spec, tmp_path), bars()
    ends = [i for i, record in enumerate(out) if note_of(record).endswith("_hit")]
    assert {note_of(out[i]) for i in ends} == {"stop_loss_hit", "take_profit_hit"}
    for x in ends:
        assert out[x]["plan"] is None and out[x]["context"]["position"] is None
        entry = max(i for i in plan_bars(out, "open") if i < x)
        stop, [target] = out[entry]["plan"]["stopLoss"], out[entry]["plan"]["takeProfits"]
        between = slice(entry + 1, x)
        assert (b["low"][between] > float(stop)).all()
        assert (b["high"][between] < float(target)).all()
        if note_of(out[x]) == "stop_loss_hit":  # checked first when both are touched
            assert b["low"][x] <= float(stop)
        else:
            assert b["low"][x] > float(stop) and b["high"][x] >= float(target)


def test_the_other_sides_entry_reverses(tmp_path: Path) -> None:
    spec = {**NO_EXITS, "side": "both", "exitShort": "close < 0", "risk": {"maxHold": 3000}}
    spec["risk"] = {"stopAtr": 20, "tpAtr": 40, "maxHold": 3000, "cooldownBars": 0}
    out, b = every_bar(spec, tmp_path), bars()
    reverses = plan_bars(out, "close", "reverse")
    assert len(reverses) > 50
    for x in reverses:
        side = out[x]["plan"]["side"]
        down = b["close"][x] < b["open"][x]
        assert down if side == "long" else b["close"][x] > b["open"][x]
        other = "entryShort: close < open" if side == "long" else "entryLong: close > open"
        assert out[x]["plan"]["reason"] == f"dsl t: reverse: {other}"


@pytest.mark.parametrize(
    ("spec", "field", "message"),
    [
        (
            {"features": [{"name": "hh", "kind": "donchian_high", "period": 5}]},
            "features.0",
            "feature 'hh': period has no effect on kind 'donchian_high'",
        ),
        (
            {"features": [{"name": "e", "kind": "ema", "lookback": 5, "value": 1}]},
            "features.0",
            "feature 'e': lookback, value has no effect on kind 'ema'",
        ),
        (
            {"features": [{"name": "a", "kind": "atr", "source": "open"}]},
            "features.0",
            "feature 'a': source has no effect on kind 'atr'",
        ),
        (
            {"side": "long", "exitShort": "close > open"},
            "",
            "exitShort has no effect: side is 'long'",
        ),
        (
            {"side": "short", "exitLong": "close < open"},
            "",
            "exitLong has no effect: side is 'short'",
        ),
    ],
)
def test_a_key_without_effect_is_refused(spec: dict, field: str, message: str) -> None:
    with pytest.raises(ValidationError) as exc:
        DslSpec.model_validate(spec)
    error = exc.value.errors()[0]
    assert ".".join(str(p) for p in error["loc"]) == field
    assert message in error["msg"]


def test_tk_signal_dsl_refuses_a_key_without_effect(home: Path, tmp_path: Path) -> None:
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({**SPEC, "side": "long", "exitShort": "close > fast"}))
    result = run(script("tk-signal"), "dsl", "--spec", str(spec), "--data", str(CSV))
    assert result.returncode == 78
    assert result.stdout == ""
    assert result.stderr.splitlines()[-1] == (
        f"tk-signal: error: {spec}: (spec): exitShort has no effect: side is 'long', "
        "no such position opens"
    )
    help_text = run(script("tk-signal"), "dsl", "--help")
    assert help_text.returncode == 0
    for words in ("stopAtr (1.8)", "maxHold (72 bars)", "cooldownBars (2)", "reverse"):
        assert words in help_text.stdout


def test_a_strategies_dsl_table_in_the_config_is_refused(home: Path, tmp_path: Path) -> None:
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(SPEC))
    (home / "config.toml").write_text('[strategies.dsl]\nside = "long"\n')
    result = run(script("tk-signal"), "dsl", "--spec", str(spec), "--data", str(CSV))
    assert result.returncode == 78 and result.stdout == ""
    assert result.stderr.splitlines()[-1] == (
        f"tk-signal: error: {home / 'config.toml'}: strategies.dsl: has no effect: the dsl "
        "strategy reads its rules from --spec FILE.json; remove the table"
    )


def test_no_entry_on_a_bar_that_a_gap_keeps_from_a_plan() -> None:
    """tk-signal emits no plan within 200 bars after a gap, so the walk opens none there
    either: every position it holds is one whose open was emitted."""
    candles = read_csv(CSV, "BTCUSDT", "1h")
    holed = Candles("BTCUSDT", "1h", np.delete(candles.rows, range(600, 603)))
    ev = load("dsl").evaluate({"1h": holed}, DslSpec.model_validate(NO_EXITS))
    up = holed.column("close") > holed.column("open")
    gapped = np.zeros(len(holed), dtype=bool)
    gapped[600:800] = True  # the first bar after the gap and the 199 after it
    opens = np.flatnonzero(ev.action == "open")
    assert up[gapped].sum() > 50 and not (ev.action[gapped] == "open").any()
    before, after = opens[opens < 600], opens[opens >= 800]
    assert before.max() + 5 < 600  # flat when the gap came: maxHold 5
    assert after[0] == 800 + int(np.argmax(up[800:]))
