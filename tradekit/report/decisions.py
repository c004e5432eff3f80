"""What each record decided, as the page's legend names it, and when (its bar)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from tradekit.report.inputs import Chain

#: marker kind -> (legend text, colour, shape); the order is the legend's and the priority
#: of a bar shared by several kinds (the first kind present gives the group its look)
KINDS: dict[str, tuple[str, str, str]] = {
    "error": ("error", "#d50000", "square"),
    "executed": ("opened (executed)", "#00c853", "arrowUp"),
    "closed": ("closed", "#2962ff", "arrowDown"),
    "manage": ("manage action", "#aa00ff", "square"),
    "manual": ("needs manual (Telegram)", "#ffab00", "square"),
    "dryrun": ("dry-run", "#78909c", "circle"),
    "news": ("blocked by news", "#ff6d00", "circle"),
    "risk": ("blocked by risk", "#ff1744", "circle"),
    "noplan": ("no plan", "rgba(120,144,156,0.35)", "circle"),
}
BLOCKED = {"news", "risk"}
#: `v5:BTCUSDT:1h:2026-02-19T18:00:00Z`: decided at that time, on the bar just closed
_CYCLE_TIME = re.compile(r":(?:(\d+[mhdw]):)?(\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d(?:\.\d+)?)?Z)$")


def kind_of(record: dict[str, Any]) -> str:
    """The legend's kind of a record: the first of error, needs-manual, no plan, blocked
    (news, then risk) that applies, else what its execution did."""
    execution = record.get("execution") or {}
    risk = record.get("risk")
    if execution.get("status") in ("failed", "rejected"):
        return "error"
    if _needs_manual(record):
        return "manual"
    if record.get("plan") is None:
        return "noplan"
    if (record.get("decision") or {}).get("blockedByNews"):
        return "news"
    if risk and not risk.get("approved"):
        return "risk"
    return _carried_out(record, execution)


def _carried_out(record: dict[str, Any], execution: dict[str, Any]) -> str:
    action = record["plan"].get("action") or "open"
    if execution.get("status") == "dry_run" or execution.get("mode") == "dry-run":
        return "dryrun"
    if execution.get("status") == "placed":
        return {"open": "executed", "close": "closed"}.get(action, "manage")
    if not execution:  # not executed (yet): what it would do
        return "manage" if action not in ("open", "close") else "dryrun"
    return "error"  # skipped or a duplicate: approved, yet nothing was placed


def _needs_manual(record: dict[str, Any]) -> bool:
    plan = record.get("plan") or {}
    for context in (record.get("context"), plan.get("context")):
        if isinstance(context, dict) and context.get("needsManual"):
            return True
    return False


def bar_time_ms(chain: Chain) -> int | None:
    """When on the chart a record belongs: the plan's source bar (its open time), else the
    bar that had just closed when it was decided (the time in its cycleId,
    `v5:BTCUSDT:1h:<time>`, else when its audit line was written), 1 ms before that time."""
    plan = chain.record.get("plan") or {}
    bar = time_ms((plan.get("source") or {}).get("barTime"))
    if bar is not None:
        return bar
    match = _CYCLE_TIME.search(chain.cycle_id)
    decided = time_ms(match.group(2)) if match else None
    if decided is not None:
        return decided - (_timeframe_ms(match.group(1)) if match.group(1) else 1)
    decided = time_ms(chain.ts)
    return None if decided is None else decided - 1


def _timeframe_ms(text: str) -> int:
    from tradekit.market.candles import timeframe_ms

    return timeframe_ms(text)


def time_ms(text: Any) -> int | None:
    if not isinstance(text, str):
        return None
    try:
        return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        return None


def symbol_of(record: dict[str, Any]) -> str | None:
    plan = record.get("plan") or {}
    if plan.get("symbol"):
        return str(plan["symbol"])
    parts = str(record.get("cycleId", "")).split(":")
    return parts[1] if len(parts) > 2 else None


def label(record: dict[str, Any], kind: str) -> str:
    """One line for the tables and the marker's tooltip."""
    plan = record.get("plan") or {}
    side = plan.get("side") or ""
    if kind == "risk":
        reasons = (record.get("risk") or {}).get("reasons") or []
        return f"{side} blocked: {reasons[0]}" if reasons else f"{side} blocked by risk"
    if kind == "news":
        items = (record.get("decision") or {}).get("newsReason") or []
        return f"{side} blocked by news: {items[0]}" if items else f"{side} blocked by news"
    if kind == "noplan":
        context = record.get("context") or {}
        return f"no plan ({context.get('note')})" if context.get("note") else "no plan"
    if kind == "error":
        reasons = (record.get("execution") or {}).get("reasons") or []
        return "error: " + (reasons[0] if reasons else "execution failed")
    action = plan.get("action") or "open"
    return f"{action} {side} {plan.get('reason') or ''}".strip()
