"""tk news: fill the news cache tk-news-gate reads (for cron), and show what is in it."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from tradekit.cli.base import Session, guarded, new_app, run_app
from tradekit.cli.options import CommonOptions, modeless_options
from tradekit.exitstatus import ExitStatus

PROG = "tk news"
SUMMARY = "Fetch the news sources of [news] into the cache tk-news-gate reads; list it."
HELP = f"""{SUMMARY}

Run `tk news fetch` from cron (every few minutes) so the gate itself never waits on the
network:

\b
    */5 * * * *  cd ~/trading && .venv/bin/tk news fetch -q

Each source's outcome is recorded; a source whose last good fetch is older than
[news] max_cache_age_minutes makes tk-news-gate apply the failure policy.
"""

app = new_app(HELP)


@app.command(
    "fetch",
    help="Fetch every enabled source (or --source NAME) into the cache (--dry-run: fetch and "
    "report, keep nothing). One JSON line per source on stdout: {source, ok, items, new, "
    "error, problems} (also in HOME/logs/news.jsonl); with -q none, and a source that "
    "failed is the only thing said (on stderr), for cron. Exit status 0; 69 when every "
    "source failed; 65 when some failed or had unreadable items (the rest are kept).",
)
@modeless_options
def fetch(
    common: CommonOptions,
    source: Annotated[
        list[str] | None, typer.Option("--source", metavar="NAME", help="Only this source.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Fetch and report; keep nothing in the cache.")
    ] = False,
) -> None:
    def body() -> ExitStatus:
        from tradekit import jsonio
        from tradekit.audit import AuditLog
        from tradekit.errors import UsageError
        from tradekit.news.cache import NewsCache
        from tradekit.news.fetching import fetch_all
        from tradekit.store import Store

        session = Session.open(PROG, common)
        settings = session.config.news
        names = {s.name for s in settings.sources}
        unknown = sorted(set(source or []) - names)
        if unknown:
            raise UsageError(
                f"--source {', '.join(unknown)}: not in [news] sources "
                f"({', '.join(sorted(names)) or 'none configured'})"
            )
        if not settings.enabled:
            session.reporter.warning("[news] enabled = false: nothing to fetch")
            return ExitStatus.OK
        if not settings.sources:
            session.reporter.warning("no [[news.sources]] in the config: nothing to fetch")
            return ExitStatus.OK
        now_ms = int(session.clock.now().timestamp() * 1000)
        with (
            Store(session.home.db_file, session.redactor) as file_store,
            AuditLog(session.home.log("news"), session.redactor) as log,
        ):
            # --dry-run: fetched and reported, kept in a private copy (the cache is untouched)
            store = file_store.in_memory_copy() if dry_run else file_store
            reports = fetch_all(
                settings, NewsCache(store), now_ms, os.environ,
                only=set(source or []) or None, home=session.home.root,
            )  # fmt: skip
            quiet = session.reporter.verbosity < 0  # cron: nothing at all when all is well
            for report in reports:
                line = jsonio.dumps({"ts": session.clock.now(), **report.to_json()})
                log.append_line(line)
                if not quiet:
                    sys.stdout.buffer.write(session.redactor.bytes(line) + b"\n")
                if report.error:  # a source that could not be read: said even with -q
                    session.reporter.error(f"{report.name}: {report.error}")
                for problem in report.problems:
                    session.reporter.warning(f"{report.name}: {problem}")
            sys.stdout.flush()
        if reports and not any(r.ok for r in reports):
            return ExitStatus.EXCHANGE_UNAVAILABLE
        if any(not r.ok or r.problems for r in reports):
            return ExitStatus.BAD_INPUT
        return ExitStatus.OK

    guarded(PROG, common.verbosity, body)


@app.command(
    "ls",
    help="The cached items of the last --hours (default: [news] recency_minutes), newest "
    "first, with the symbols they concern, their tags, score and direction; --json for "
    "JSON lines.",
)
@modeless_options
def ls(
    common: CommonOptions,
    hours: Annotated[float | None, typer.Option("--hours", min=0.01, help="How far back.")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="JSON lines.")] = False,
) -> None:
    def body() -> ExitStatus:
        from datetime import UTC, datetime

        from tradekit import jsonio
        from tradekit.news.cache import NewsCache
        from tradekit.news.rules import Rules
        from tradekit.store import Store

        session = Session.open(PROG, common)
        settings = session.config.news
        now_ms = int(session.clock.now().timestamp() * 1000)
        window_ms = int((hours * 3600 if hours else settings.recency_minutes * 60) * 1000)
        rules = Rules.from_settings(settings)
        with Store(session.home.db_file, session.redactor) as store:
            cached = NewsCache(store).recent(now_ms - window_ms, now_ms)
        from tradekit.cli.tables import Column, Table, show

        table = Table((
            Column("time (UTC)"), Column("direction"), Column("score", numeric=True),
            Column("symbols"), Column("title"),
        ))  # fmt: skip
        for item, consumed in cached:
            scored = rules.score(item)
            when = datetime.fromtimestamp(item.published_ms / 1000, UTC)
            if json_output:
                row = {
                    "id": item.id, "source": item.source, "title": item.title, "url": item.url,
                    "time": when, "symbols": list(scored.symbols), "tags": list(scored.tags),
                    "score": scored.score, "direction": scored.direction,
                    "consumedFor": sorted(consumed),
                }  # fmt: skip
                sys.stdout.buffer.write(jsonio.dumps(row) + b"\n")
            else:
                symbols = ",".join(scored.symbols) or "-"
                table.add(
                    f"{when:%Y-%m-%d %H:%M}", scored.direction, f"{scored.score:+d}", symbols,
                    item.title,
                )  # fmt: skip
        if table.rows:
            show(table)
        if not cached and not json_output:
            session.reporter.note("no cached items in that window (run `tk news fetch`)")
        return ExitStatus.OK

    guarded(PROG, common.verbosity, body)


def main(argv: list[str] | None = None, prog_name: str | None = None) -> None:
    run_app(app, argv, prog_name or PROG)
