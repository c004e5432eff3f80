"""tk-news-gate: veto plans on fresh news and calendar events (the `decision` block)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from tradekit.cli.base import Session, new_app, run_app, run_stream_stage, uninitialised_home
from tradekit.cli.options import CommonOptions, StreamOptions, common_options, stream_options
from tradekit.records import TradePlan
from tradekit.runner import Stage
from tradekit.stream import Extended, OnError, Parsed

PROG = "tk-news-gate"
SUMMARY = "Veto plans on fresh news and economic-calendar events (adds the `decision` block)."
HELP = f"""{SUMMARY}

Reads the news cache (`tk news fetch` fills it from the [news] sources) and the calendar
file of [news.calendar]; never waits on the network. For each plan that opens a position:
bearish news about its symbol blocks a long, bullish news blocks a short, and a scheduled
event (FOMC, CPI, ...) blocks new entries inside its window. The `decision` block says
blockedByNews, newsReason ("HH:MM title" per item), newsItems (every item about the
symbol, with its score, tags and direction), calendarEvents, and newsStatus: "ok", or
"fail-open: why" / "fail-closed: why" when a source's cache is older than
max_cache_age_minutes (fail-closed blocks new entries). A plan an earlier stage already
blocked stays blocked. `plan: null` lines and closes pass through untouched; one line out
per line in. With no sources and no calendar configured (or [news] enabled = false) every
line passes through unchanged.

With [news] consume = "once", an item that blocked a plan is used up, but only by a real
cycle: not by a dry-run record (dryRun: true) nor by tk-news-gate run in dry-run mode
(the default: pass the cycle's --paper or --live, as bin/tk-cycle does).

--paper and --live need a home made by `tk init` (exit 78 otherwise); a dry-run in a
home tk init did not make gates with what it finds and writes nothing there.

Every record written is also appended to HOME/logs/decisions.jsonl.
"""

app = new_app(HELP)


@app.command(help=HELP)
@common_options
@stream_options(OnError.SKIP)
def news_gate(
    common: CommonOptions,
    stream: StreamOptions,
    fetch: Annotated[
        bool,
        typer.Option(
            "--fetch",
            help="Fetch every source into the cache first (as `tk news fetch`; puts the "
            "network on the gate's path: prefer cron).",
        ),
    ] = False,
) -> None:
    gate = GateRun(fetch=fetch)
    stage = Stage("news-gate", TradePlan, gate.process, audit_trail="decisions")
    run_stream_stage(PROG, common, stream, stage, start=gate.start, home_use="optional")


class GateRun:
    def __init__(self, *, fetch: bool = False) -> None:
        self.fetch = fetch
        self.enabled = False
        self.gate: Any = None
        self.cache: Any = None
        self.consume_allowed = False
        self.now_ms = 0

    def start(self, session: Session, store: Any) -> None:
        from pathlib import Path

        from tradekit.news.cache import NewsCache
        from tradekit.news.calendar import read_calendar
        from tradekit.news.gate import NewsGate

        if session.mode.mode != "dry-run" and not session.home_ready:
            # a real cycle reads (and may use up) the news cache of the home it trades in
            raise uninitialised_home(session.home)
        settings = session.config.news
        self.enabled = settings.enabled and bool(settings.sources or settings.calendar.file)
        if not self.enabled:
            if settings.enabled:
                session.reporter.detail(
                    "no [news] sources and no calendar configured: nothing is gated"
                )
            return
        events, problems = [], []
        if settings.calendar.file:
            path = Path(settings.calendar.file).expanduser()
            if not path.is_absolute():
                path = session.home.root / path
            calendar = read_calendar(path)
            self._log_problems(session, "calendar", calendar.problems)
            events, problems = calendar.events, calendar.problems
        self.now_ms = int(session.clock.now().timestamp() * 1000)
        self.cache = NewsCache(store)
        if self.fetch:
            self._fetch(session, settings)
        self.gate = NewsGate(
            settings, self.cache, self.now_ms, events=events, calendar_problems=problems
        )
        self.consume_allowed = session.mode.mode != "dry-run"
        if self.gate.failure is not None:
            session.reporter.warning(f"news {self.gate.status}")

    def _fetch(self, session: Session, settings: Any) -> None:
        import os

        from tradekit.news.fetching import fetch_all

        reports = fetch_all(settings, self.cache, self.now_ms, os.environ, home=session.home.root)
        for report in reports:
            problems = [report.error] if report.error else []
            self._log_problems(session, f"news source {report.name}", problems + report.problems)

    @staticmethod
    def _log_problems(session: Session, source: str, problems: list[str]) -> None:
        """On stderr and in HOME/logs/news.jsonl, with the source."""
        if not problems:
            return
        from tradekit.audit import AuditLog

        with AuditLog(session.home.log("news"), session.redactor) as log:
            for problem in problems:
                session.reporter.warning(f"{source}: {problem}")
                log.append(session.clock.now(), "news-gate", {"source": source, "problem": problem})

    def process(self, parsed: Parsed[TradePlan]) -> Extended:
        record, plan = parsed.record, parsed.record.plan
        if not self.enabled or plan is None or plan.effective_action != "open":
            return Extended(parsed, {})
        if not plan.symbol or plan.side is None:
            return Extended(parsed, {})  # tk-risk blocks it, naming the field
        consume = self.consume_allowed and not record.dry_run
        verdict = self.gate.judge(plan.symbol, plan.side, consume=consume)
        if verdict.consumed:
            self.cache.consume(verdict.consumed, self.now_ms)
        upstream = record.decision
        reasons = verdict.reasons
        blocked = verdict.blocked
        if upstream is not None and upstream.blocked_by_news:
            blocked = True  # never unblocked downstream
            reasons = [*upstream.news_reason, *reasons]
        earlier = parsed.raw.get("decision") if isinstance(parsed.raw, dict) else None
        decision = {
            **(earlier if isinstance(earlier, dict) else {}),  # fields of others are kept
            "blockedByNews": blocked,
            "newsReason": reasons,
            "newsItems": verdict.items,
            "calendarEvents": verdict.events,
            "newsStatus": verdict.status,
        }
        return Extended(parsed, {"decision": decision})


def main(argv: list[str] | None = None, prog_name: str | None = None) -> None:
    run_app(app, argv, prog_name or PROG)
