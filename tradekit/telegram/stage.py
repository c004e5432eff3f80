"""tk-parse-tg's work on one post: parse it, resolve a manage reply's symbol, keep the
outcome in the plan book, and write the TradePlan v1 record."""

from __future__ import annotations

from typing import Any

from tradekit.telegram.book import PlanBook, PostOutcome
from tradekit.telegram.classify import parse_post
from tradekit.telegram.plans import Post, entry_record, manage_record, null_record
from tradekit.telegram.results import EntrySignal, ManageAction, NeedsManual, ParseResult


class PostParser:
    def __init__(self, book: PlanBook, markets: frozenset[str]):
        self.book = book
        self.markets = markets

    def handle(self, post: Post) -> dict[str, Any]:
        result = parse_post(post.text, has_image=post.has_image, markets=self.markets)
        if isinstance(result, EntrySignal):
            self._keep(post, result, "open" if result.valid else None, result.symbol, result.side)
            return entry_record(post, result)
        if isinstance(result, ManageAction):
            return self._manage(post, result)
        self._keep(post, result, None, getattr(result, "symbol", None), None)
        return null_record(post, result)

    def _manage(self, post: Post, action: ManageAction) -> dict[str, Any]:
        symbol, symbol_from = self._symbol_for(post, action)
        if symbol is None:
            manual = NeedsManual(symbol_from, ("symbol",))
            self._keep(post, manual, None, None, None)
            return null_record(post, manual)
        self._keep(post, action, action.actions[0], symbol, None)
        return manage_record(post, action, symbol, symbol_from)

    def _symbol_for(self, post: Post, action: ManageAction) -> tuple[str | None, str]:
        """The symbol and where it came from; or None and why there is none. Never "the
        most recent trade": the reply's post, else the channel's one open plan."""
        if action.symbol is not None:
            return action.symbol, "text"
        if post.reply_to is not None:
            replied = self.book.symbol_of(post.channel, post.reply_to)
            if replied is not None:
                return replied, "reply"
        open_plans = self.book.open_before(post.channel, post.message_id)
        if len(open_plans) == 1:
            return open_plans[0], "open_plan"
        count = "no plan" if not open_plans else "more than one plan"
        return None, (
            f"manage action without a symbol: the post names none, replies to no known post, "
            f"and {count} of channel {post.channel} is open"
        )

    def _keep(
        self,
        post: Post,
        result: ParseResult,
        action: str | None,
        symbol: str | None,
        side: str | None,
    ) -> None:
        outcome = PostOutcome(
            post.channel, post.message_id, post.version, result.kind, action, symbol, side
        )
        self.book.record(outcome)
