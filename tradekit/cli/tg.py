"""tk tg: follow Telegram channels (the web preview, a Telegram account) as telegram_message
records for tk-parse-tg; list what is followed."""

from __future__ import annotations

import sys
import time
from typing import Annotated

import typer

from tradekit.cli.base import Session, guarded, new_app, run_app
from tradekit.cli.options import CommonOptions, modeless_options
from tradekit.exitstatus import ExitStatus

PROG = "tk tg"
SUMMARY = "Follow Telegram channels: their posts as telegram_message records for tk-parse-tg."
HELP = f"""{SUMMARY}

\b
    tk tg poll SignalDesk --follow | tk-parse-tg | tk-news-gate | tk-risk --paper | tk-exec --paper
    */2 * * * *  cd ~/trading && .venv/bin/tk tg poll SignalDesk >> posts.jsonl   # cron, one-shot
    tk tg listen @SignalDesk    # the same through a Telegram account (Telethon)
    tk tg ls                    # each channel: last id, last poll, posts, edits, deletes, errors

Each post is written once per version: a new post, an edit (version + 1, event "edit"), a
post deleted from the channel (event "delete"). Edits and deletes are recorded, never traded
on by default. State is kept per channel in HOME/tradekit.db; photos in HOME/media.
"""

app = new_app(HELP)


def _selection(since: str | None, backfill: int | None):  # -> Selection
    from tradekit.clock import parse_time
    from tradekit.errors import UsageError
    from tradekit.telegram.follow import Selection

    if since is not None and backfill is not None:
        raise UsageError("--since and --backfill: give one of them")
    if since is None:
        return Selection(backfill=backfill)
    if since.strip().isdigit():
        return Selection(since_id=int(since))
    try:
        return Selection(since_time=parse_time(since))
    except ValueError as exc:
        raise UsageError(f"--since: {exc} (or a message id)") from None


@app.command(
    "poll",
    help="Read CHANNEL's public web preview ([telegram] preview_url + CHANNEL) and write a "
    "telegram_message line for each new post, edit and delete since the last poll. The "
    "first poll of a channel writes only its newest post, unless --since or --backfill. "
    "Exit status (one-shot): 0; 65 when the page's layout changed or a post could not be "
    "read (the rest are written); 69 when the page could not be fetched after the retries; "
    "75 when rate limited for longer than max_retry_after_seconds. --follow polls every "
    "polling_seconds until Ctrl-C (130), reporting failures and going on.",
)
@modeless_options
def poll(
    common: CommonOptions,
    channel: Annotated[str, typer.Argument(help="The channel's public name (SignalDesk).")],
    follow: Annotated[
        bool, typer.Option("--follow", help="Keep polling every [telegram] polling_seconds.")
    ] = False,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            metavar="ID|TIME",
            help="Write the posts after this message id, or "
            "from this time (ISO 8601), paging back as far as needed.",
        ),
    ] = None,
    backfill: Annotated[
        int | None,
        typer.Option("--backfill", metavar="N", min=0, help="Write the newest N posts."),
    ] = None,
) -> None:
    def body() -> ExitStatus:
        from tradekit.telegram.running import PollRun

        selection = _selection(since, backfill)
        session = Session.open(PROG, common)
        with PollRun.open(session, channel) as run:
            if not follow:
                return run.once(selection)
            return run.forever(selection, sleep=time.sleep)

    guarded(PROG, common.verbosity, body)


@app.command(
    "listen",
    help="Follow CHANNEL... (@username, numeric id or title) with a Telegram account "
    "(Telethon; read-only: nothing is ever sent): new and edited messages live, and a "
    "history read every [telegram] polling_seconds from the last id seen, so a missed "
    "update is caught within one interval. The api id and hash come from the environment "
    "([telegram] api_id_env, api_hash_env); the login is kept in HOME/telegram.session "
    "(mode 0600): run with --login once on a terminal. --once: one history read, then exit "
    "(cron). Exit status 0; 78 without credentials or a login; 75 on a FLOOD_WAIT longer "
    "than max_retry_after_seconds; 130 on Ctrl-C.",
)
@modeless_options
def listen(
    common: CommonOptions,
    channels: Annotated[list[str], typer.Argument(help="@username, id or title.")],
    once: Annotated[bool, typer.Option("--once", help="One history read, then exit.")] = False,
    login: Annotated[
        bool, typer.Option("--login", help="Ask for the phone number and code if needed.")
    ] = False,
) -> None:
    def body() -> ExitStatus:
        from tradekit.telegram.running import listen as run_listener

        session = Session.open(PROG, common)
        return run_listener(session, channels, once=once, login=login)

    guarded(PROG, common.verbosity, body)


@app.command(
    "ls",
    help="Each followed channel: the last message id, the last poll and the last good one, "
    "posts, edits, deletes and errors counted, the last error. Exit status 0; 75 when a "
    "channel's last good poll is older than --stale-minutes (default [telegram] "
    "stale_minutes) or it never had one, for cron and health checks; 78 when HOME does not "
    "exist (a look never creates one); --json for JSON lines.",
)
@modeless_options
def ls(
    common: CommonOptions,
    stale_minutes: Annotated[
        float | None, typer.Option("--stale-minutes", min=0.01, help="How old is stale.")
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="JSON lines.")] = False,
) -> None:
    def body() -> ExitStatus:
        from tradekit.telegram.running import list_channels

        session = Session.open(PROG, common)  # a look never creates one
        limit = stale_minutes or session.config.telegram.stale_minutes
        return list_channels(session, limit, json_output, sys.stdout)

    guarded(PROG, common.verbosity, body)


def main(argv: list[str] | None = None, prog_name: str | None = None) -> None:
    run_app(app, argv, prog_name or PROG)
