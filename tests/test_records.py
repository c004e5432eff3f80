"""TradePlan v1 and the other record kinds: seed compatibility, exact numbers, schemas."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from conftest import ROOT, SEED_PLAN
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from tradekit import jsonio, schemas
from tradekit.records import (
    RECORD_KINDS,
    ErrorRecord,
    GuardEvent,
    NewsItem,
    Plan,
    RiskBlock,
    TelegramMessage,
    TradePlan,
)


def test_seed_plan_validates_and_keeps_its_fields() -> None:
    raw = jsonio.loads(SEED_PLAN)
    plan = TradePlan.model_validate(raw)
    assert plan.trade_plan_version == 1
    assert plan.cycle_id == "1763632800000"
    assert plan.dry_run is False
    assert plan.plan is not None and plan.plan.side == "long" and plan.plan.level == "strong"
    assert plan.decision is not None and plan.decision.blocked_by_news is False
    assert plan.plan.effective_action == "open"


def test_seed_cycle_output_with_its_extra_fields_validates() -> None:
    # run-perp-cycle.js adds ok, nowMs, news, alerts, signalMeta and decision.hasAlert.
    seed_cycle = (
        '{"ok":true,"nowMs":1763632800000,"tradePlanVersion":1,"cycleId":"1763632800000",'
        '"plan":null,"decision":{"hasAlert":false,"blockedByNews":false,"newsReason":[]},'
        '"news":{"ok":false,"error":"news_unavailable"},"alerts":[],"signalMeta":null}'
    )
    record = TradePlan.model_validate(jsonio.loads(seed_cycle))
    assert record.plan is None
    assert record.model_extra == {
        "ok": True,
        "nowMs": 1763632800000,
        "news": {"ok": False, "error": "news_unavailable"},
        "alerts": [],
        "signalMeta": None,
    }
    assert record.decision is not None and record.decision.model_extra == {"hasAlert": False}


def test_extension_fields_are_typed() -> None:
    record = TradePlan.model_validate(
        jsonio.loads(
            '{"tradePlanVersion":1,"cycleId":"c","plan":{"symbol":"BTCUSDT","side":"short",'
            '"stopLoss":91480.50,"takeProfits":[90100,89500.25],"leverage":5,'
            '"entry":{"type":"limit","low":91000,"high":91100.5},'
            '"source":{"kind":"strategy","strategy":"v5","barTime":"2026-11-20T09:00:00Z"}}}'
        )
    )
    plan = record.plan
    assert plan is not None
    assert plan.stop_loss == Decimal("91480.50")
    assert str(plan.stop_loss) == "91480.50"  # trailing zero kept: exact text
    assert plan.take_profits == [Decimal(90100), Decimal("89500.25")]
    assert plan.entry is not None and plan.entry.high == Decimal("91100.5")
    assert plan.source is not None and plan.source.bar_time is not None
    assert plan.source.bar_time.isoformat() == "2026-11-20T09:00:00+00:00"


@pytest.mark.parametrize(
    ("plan", "field"),
    [
        ({"side": "up"}, "side"),
        ({"stopLoss": "61000"}, "stopLoss"),
        ({"stopLoss": True}, "stopLoss"),
        ({"leverage": 0}, "leverage"),
        ({"leverage": 126}, "leverage"),
        ({"confidence": 1.5}, "confidence"),
        ({"action": "flip"}, "action"),
        ({"takeProfits": [1, "x"]}, "takeProfits"),
    ],
)
def test_wrong_types_are_rejected_naming_the_field(plan: dict, field: str) -> None:
    with pytest.raises(ValidationError) as exc:
        Plan.model_validate(plan)
    assert exc.value.errors()[0]["loc"][0] == field


@pytest.mark.parametrize(
    ("record", "field"),
    [
        ('{"tradePlanVersion":true,"cycleId":"c"}', "tradePlanVersion"),
        ('{"tradePlanVersion":1.0,"cycleId":"c"}', "tradePlanVersion"),
        ('{"tradePlanVersion":1,"cycleId":""}', "cycleId"),
        ('{"tradePlanVersion":1,"cycleId":"c","plan":{"symbol":"btc usdt"}}', "plan"),
    ],
)
def test_record_identity_is_strict(record: str, field: str) -> None:
    with pytest.raises(ValidationError) as exc:
        TradePlan.model_validate(jsonio.loads(record))
    assert exc.value.errors()[0]["loc"][0] == field


def test_semantics_are_left_to_risk_not_to_the_record() -> None:
    # A negative price or a missing side is a valid *record*: tk-risk blocks it with a reason.
    plan = Plan.model_validate({"stopLoss": -5, "takeProfits": [3, 1]})
    assert plan.stop_loss == Decimal(-5) and plan.side is None


def test_records_are_immutable_values() -> None:
    record = TradePlan.model_validate(jsonio.loads(SEED_PLAN))
    with pytest.raises(ValidationError):
        record.cycle_id = "other"  # type: ignore[misc]


def test_blocks_write_camel_case_and_exact_numbers() -> None:
    block = RiskBlock(approved=False, reasons=["stop on the wrong side"], stop_loss=Decimal("1.10"))
    assert jsonio.dumps(block.to_json_dict()) == (
        b'{"approved":false,"reasons":["stop on the wrong side"],"warnings":[],"stopLoss":1.10}'
    )


def test_other_record_kinds_say_what_they_are() -> None:
    kinds = {
        ErrorRecord(stage="risk", source="<stdin>", line=2, error="x", input="y").record,
        GuardEvent(ts="2026-11-20T10:00:00Z", kind="hold").record,
        TelegramMessage(channel="c", message_id=1, date="2026-11-20T10:00:00Z").record,
        NewsItem(id="1", source="rss", title="t").record,
    }
    assert kinds == {"error", "guard_event", "telegram_message", "news_item"}


@given(
    st.decimals(allow_nan=False, allow_infinity=False, places=None).filter(
        lambda d: abs(d.adjusted()) < 200
    )
)
def test_any_finite_decimal_round_trips_exactly(value: Decimal) -> None:
    text = jsonio.dumps({"p": value})
    back = jsonio.loads(text)["p"]
    assert back == value
    assert Decimal(str(back)) == value


@given(st.integers(min_value=-(10**40), max_value=10**40))
def test_any_integer_round_trips_exactly(value: int) -> None:
    assert jsonio.loads(jsonio.dumps({"n": value}))["n"] == value


def test_nan_and_infinity_are_refused_both_ways() -> None:
    for text in ('{"p": NaN}', '{"p": Infinity}', '{"p": -Infinity}'):
        with pytest.raises(jsonio.JsonError):
            jsonio.loads(text)
    with pytest.raises(jsonio.JsonError):
        jsonio.dumps({"p": Decimal("NaN")})


def test_schemas_match_the_models() -> None:
    """Fails when a model changed and `tk schema --write schemas` was not run."""
    assert schemas.drifted(ROOT / "schemas") == []
    assert sorted(p.name for p in (ROOT / "schemas").glob("*.json")) == sorted(
        f"{kind}.schema.json" for kind in RECORD_KINDS
    )


def test_drift_is_detected(tmp_path: Path) -> None:
    schemas.write_all(tmp_path)
    assert schemas.drifted(tmp_path) == []
    path = schemas.schema_path(tmp_path, "error")
    path.write_bytes(path.read_bytes().replace(b'"line"', b'"lineNo"'))
    assert schemas.drifted(tmp_path) == ["error"]


def test_tradeplan_schema_accepts_the_seed_plan_shape() -> None:
    schema = schemas.schema_for("tradeplan.v1")
    assert schema["required"] == ["tradePlanVersion", "cycleId"]
    assert schema["properties"]["tradePlanVersion"]["const"] == 1
    assert schema["additionalProperties"] is True


@pytest.mark.parametrize(
    "value", [Decimal("NaN"), Decimal("-Infinity"), float("inf"), Decimal("1e400")]
)
def test_a_price_that_is_not_finite_is_refused_by_the_model(value: object) -> None:
    with pytest.raises(ValidationError, match="must be a finite number"):
        TradePlan.model_validate(
            {"tradePlanVersion": 1, "cycleId": "c", "plan": {"stopLoss": value}}
        )
    with pytest.raises(ValidationError, match="must be a finite number"):
        TradePlan.model_validate_json(
            b'{"tradePlanVersion":1,"cycleId":"c","plan":{"stopLoss":NaN}}'
        )
