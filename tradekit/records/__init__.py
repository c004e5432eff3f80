"""Record models. `RECORD_KINDS` maps each kind to its model and its schema file."""

from tradekit.records.base import Num, PositiveNum, Record
from tradekit.records.other import ErrorRecord, FieldProblem, GuardEvent, NewsItem, TelegramMessage
from tradekit.records.plan import (
    Decision,
    Entry,
    ExecutionBlock,
    Mode,
    OrderRef,
    ParseBlock,
    Plan,
    RiskBlock,
    Side,
    Source,
    TradePlan,
)

#: kind name -> model. The schema of kind K is schemas/K.schema.json.
RECORD_KINDS: dict[str, type[Record]] = {
    "tradeplan.v1": TradePlan,
    "error": ErrorRecord,
    "guard_event": GuardEvent,
    "telegram_message": TelegramMessage,
    "news_item": NewsItem,
}

__all__ = [
    "RECORD_KINDS",
    "Decision",
    "Entry",
    "ErrorRecord",
    "ExecutionBlock",
    "FieldProblem",
    "GuardEvent",
    "Mode",
    "NewsItem",
    "Num",
    "OrderRef",
    "ParseBlock",
    "Plan",
    "PositiveNum",
    "Record",
    "RiskBlock",
    "Side",
    "Source",
    "TelegramMessage",
    "TradePlan",
]
