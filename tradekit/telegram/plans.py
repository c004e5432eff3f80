"""A parse as a TradePlan v1 record: one record per post version, the same every run.

The cycleId is `tg:<channel>:<message_id>`: an edit keeps it, so tk-exec's idempotency
key (built from it) makes sure one post never opens two positions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tradekit.telegram.results import EntrySignal, ManageAction, NeedsManual, NonSignal

#: How much of the post a plan's `reason` quotes.
REASON_CHARS = 200
#: A rules parse that read every field a signal can have (side, entry, stop, targets).
COMPLETE = 1.0
#: One that read what was written, but the post gave no stop or no target.
PARTIAL = 0.9


@dataclass(frozen=True, slots=True)
class Post:
    channel: str
    message_id: int
    version: int
    text: str
    reply_to: int | None = None
    has_image: bool = False


def cycle_id(post: Post) -> str:
    return f"tg:{post.channel}:{post.message_id}"


def source(post: Post) -> dict[str, Any]:
    out: dict[str, Any] = {
        "kind": "telegram",
        "channel": post.channel,
        "messageId": post.message_id,
        "version": post.version,
    }
    if post.reply_to is not None:
        out["replyTo"] = post.reply_to
    return out


def _reason(post: Post) -> str:
    text = " ".join(post.text.split())
    return text if len(text) <= REASON_CHARS else text[: REASON_CHARS - 1] + "…"


def _record(post: Post, plan: dict[str, Any] | None, parse: dict[str, Any]) -> dict[str, Any]:
    if plan is None:
        parse["source"] = source(post)
    return {"tradePlanVersion": 1, "cycleId": cycle_id(post), "plan": plan, "parse": parse}


def entry_record(post: Post, signal: EntrySignal) -> dict[str, Any]:
    entry: dict[str, Any] = {"type": "market" if signal.market else "limit"}
    if signal.entry_low is not None:
        if signal.entry_low == signal.entry_high:
            entry["price"] = signal.entry_low
        entry["low"], entry["high"] = signal.entry_low, signal.entry_high
    if signal.entry_points:
        entry["points"] = list(signal.entry_points)
    complete = signal.stop_loss is not None and bool(signal.take_profits)
    plan: dict[str, Any] = {
        "symbol": signal.symbol,
        "side": signal.side,
        "action": "open",
        "reason": _reason(post),
        "source": source(post),
        "entry": entry,
        "stopLoss": signal.stop_loss,
        "takeProfits": list(signal.take_profits),
    }
    if signal.tp_weights:
        plan["tpWeights"] = list(signal.tp_weights)
    if signal.leverage is not None:
        plan["leverage"] = signal.leverage
    plan["confidence"] = COMPLETE if complete else PARTIAL
    plan["evidence"] = signal.evidence
    parse: dict[str, Any] = {"kind": "entry", "parser": "rules", "valid": signal.valid}
    if signal.problem:
        parse["reason"] = signal.problem
    parse["missingFields"] = []
    return _record(post, _without_none(plan), parse)


def manage_record(
    post: Post, action: ManageAction, symbol: str, symbol_from: str
) -> dict[str, Any]:
    actions = action.actions
    plan: dict[str, Any] = {
        "symbol": symbol,
        "action": actions[0],
        "reason": _reason(post),
        "source": source(post),
        "reducePct": action.reduce_pct,
        "takeProfits": [action.tp_price] if action.tp_price is not None else None,
        "confidence": COMPLETE,
        "evidence": action.evidence,
    }
    parse = {
        "kind": "manage",
        "parser": "rules",
        "missingFields": [],
        "actions": list(actions),
        "symbolFrom": symbol_from,
    }
    return _record(post, _without_none(plan), parse)


def null_record(post: Post, result: NeedsManual | NonSignal) -> dict[str, Any]:
    parse: dict[str, Any] = {"kind": result.kind, "parser": "rules", "reason": result.reason}
    if isinstance(result, NeedsManual):
        parse["missingFields"] = list(result.missing_fields)
        if result.symbol:
            parse["symbol"] = result.symbol
    else:
        parse["missingFields"] = []
    return _record(post, None, parse)


def _without_none(fields: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in fields.items() if value is not None}
