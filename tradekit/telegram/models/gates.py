"""The extraction a model must return (seed002 §5.3) and the gates it must pass (§5.5).
Every order-relevant field carries verbatim evidence (at most 30 characters) and where it
was seen; a field without evidence, text evidence not found in the post, a missing or
uncertain critical field (confidence capped at 0.6), confidence below the threshold, or an
answer that is not the schema: needs-manual, with the reason. The model never decides to
trade: `safety.should_trade` is always NO_DECISION."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

#: prompts and schema change together: the cache is keyed by this
PROMPT_VERSION = "extract-v1"
ORDER_FIELDS = ("symbol", "side", "entry", "stop_loss", "take_profits", "leverage")
CRITICAL_FIELDS = ("symbol", "side", "stop_loss")
MAX_SNIPPET = 30
UNCERTAIN_CAP = 0.6

_EVIDENCE = {
    "type": ["object", "null"],
    "additionalProperties": False,
    "required": ["snippet", "source"],
    "properties": {
        "snippet": {"type": "string", "maxLength": MAX_SNIPPET},
        "source": {"type": "string", "enum": ["text", "image", "both"]},
    },
}


def _field(value: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["value", "evidence"],
        "properties": {"value": value, "evidence": _EVIDENCE},
    }


_NUMBERS = {"type": ["array", "null"], "items": {"type": "number"}}
#: the JSON schema sent as the structured output (strict: every key required)
SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "is_signal",
        "fields",
        "uncertain_fields",
        "extraction_warnings",
        "confidence",
        "safety",
    ],
    "properties": {
        "is_signal": {"type": "boolean"},
        "fields": {
            "type": "object",
            "additionalProperties": False,
            "required": list(ORDER_FIELDS),
            "properties": {
                "symbol": _field({"type": ["string", "null"]}),
                "side": _field({"type": ["string", "null"], "enum": ["long", "short", None]}),
                "entry": _field(_NUMBERS),
                "stop_loss": _field({"type": ["number", "null"]}),
                "take_profits": _field(_NUMBERS),
                "leverage": _field({"type": ["number", "null"]}),
            },
        },
        "uncertain_fields": {"type": "array", "items": {"type": "string"}},
        "extraction_warnings": {"type": "array", "items": {"type": "string"}},
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
        "safety": {
            "type": "object",
            "additionalProperties": False,
            "required": ["should_trade"],
            "properties": {"should_trade": {"type": "string", "enum": ["NO_DECISION"]}},
        },
    },
}


@dataclass
class Verdict:
    """What a model's answer is worth: `ok` (the fields may be used) or needs-manual."""

    ok: bool
    reasons: list[str] = field(default_factory=list)
    fields: dict[str, Any] = field(default_factory=dict)
    confidence: float = 0.0
    uncertain_fields: list[str] = field(default_factory=list)
    extraction_warnings: list[str] = field(default_factory=list)

    @classmethod
    def manual(cls, reason: str) -> Verdict:
        return cls(False, [reason])


def _normalised(text: str) -> str:
    return " ".join(text.split()).casefold()


def judge(answer: str, post_text: str, threshold: float) -> Verdict:
    """The gates, in order; every failing gate adds its reason."""
    try:
        data = json.loads(answer)
    except ValueError as exc:
        return Verdict.manual(f"the model's answer is not JSON: {exc}")
    problem = _shape_problem(data)
    if problem:
        return Verdict.manual(f"the model's answer does not match the schema: {problem}")
    fields = {name: data["fields"][name]["value"] for name in ORDER_FIELDS}
    reasons = [r for name in ORDER_FIELDS for r in _evidence_problems(name, data, post_text)]
    uncertain = [str(name) for name in data["uncertain_fields"]]
    confidence = float(data["confidence"])
    critical = [n for n in CRITICAL_FIELDS if fields[n] in (None, []) or n in uncertain]
    if critical:
        confidence = min(confidence, UNCERTAIN_CAP)
    if data["is_signal"] and critical:
        reasons.append(f"critical field missing or uncertain: {', '.join(critical)}")
    if confidence < threshold:
        reasons.append(f"confidence {confidence:g} below the threshold {threshold:g}")
    return Verdict(not reasons, reasons, fields, confidence, uncertain,
                   [str(w) for w in data["extraction_warnings"]])  # fmt: skip


def _shape_problem(data: Any) -> str | None:
    if not isinstance(data, dict):
        return "not an object"
    missing = [key for key in SCHEMA["required"] if key not in data]
    if missing:
        return f"missing {', '.join(missing)}"
    fields, safety, confidence = data["fields"], data["safety"], data["confidence"]
    checks = (
        (isinstance(fields, dict) and all(
            isinstance(fields.get(name), dict) and "value" in fields[name]
            for name in ORDER_FIELDS
        ), f"fields: each of {', '.join(ORDER_FIELDS)} needs an object with a value"),
        (isinstance(safety, dict) and safety.get("should_trade") == "NO_DECISION",
         "safety.should_trade must be NO_DECISION (the model never decides)"),
        (isinstance(confidence, int | float) and not isinstance(confidence, bool),
         "confidence: not a number"),
        (isinstance(data["uncertain_fields"], list)
         and isinstance(data["extraction_warnings"], list),
         "uncertain_fields and extraction_warnings must be lists"),
    )  # fmt: skip
    return next((why for ok, why in checks if not ok), None)


def _evidence_problems(name: str, data: dict[str, Any], post_text: str) -> list[str]:
    entry = data["fields"][name]
    if entry["value"] in (None, []):
        return []
    evidence = entry.get("evidence")
    if not isinstance(evidence, dict) or not str(evidence.get("snippet") or "").strip():
        return [f"{name}: no evidence"]
    snippet, source = str(evidence["snippet"]), evidence.get("source")
    if len(snippet) > MAX_SNIPPET:
        return [f"{name}: evidence longer than {MAX_SNIPPET} characters"]
    if source not in ("text", "image", "both"):
        return [f"{name}: evidence source {source!r} is not text, image or both"]
    if source in ("text", "both") and _normalised(snippet) not in _normalised(post_text):
        return [f"{name}: evidence {snippet!r} is not in the post's text"]
    return []
