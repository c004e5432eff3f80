"""What `tk tg poll` and `tk tg ls` do with a session: the poller's parts put together, the
records written, the outcome turned into an exit status."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING

from tradekit import jsonio
from tradekit.errors import TradekitError
from tradekit.exitstatus import ExitStatus
from tradekit.records import TelegramMessage
from tradekit.store import Store
from tradekit.telegram.follow import ChannelRow, Follower, Selection, channel_key
from tradekit.telegram.sources.post import LayoutChangedError

if TYPE_CHECKING:
    from tradekit.cli.base import Session
    from tradekit.telegram.poll import WebPreviewPoller


@dataclass
class PollRun:
    session: Session
    name: str
    poller: WebPreviewPoller

    @classmethod
    @contextmanager
    def open(cls, session: Session, name: str) -> Iterator[PollRun]:
        from tradekit.telegram.media import MediaStore
        from tradekit.telegram.poll import WebPreviewPoller
        from tradekit.telegram.sources.http import Fetcher, RetryPolicy

        settings = session.config.telegram
        policy = RetryPolicy(
            settings.max_retries, settings.backoff_seconds, settings.max_retry_after_seconds
        )
        with ExitStack() as stack:
            store = stack.enter_context(Store(session.home.db_file, session.redactor))
            fetcher = Fetcher(timeout=settings.timeout_seconds, policy=policy)
            stack.callback(fetcher.close)
            media = None
            if settings.download_media:
                media = MediaStore(
                    store, session.home.root, fetcher, max_bytes=settings.max_media_bytes
                )
            follower = Follower(store, window_posts=settings.window_posts)
            poller = WebPreviewPoller(fetcher, follower, settings.preview_url, media)
            yield cls(session, name.strip().removeprefix("@"), poller)

    @property
    def channel(self) -> str:
        return channel_key(self.name)

    def once(self, selection: Selection) -> ExitStatus:
        """One poll; its failure is reported, counted against the channel and its status."""
        reporter = self.session.reporter
        now_ms = int(self.session.clock.now().timestamp() * 1000)
        try:
            outcome = self.poller.poll(self.name, self.channel, now_ms, selection)
        except LayoutChangedError as exc:
            return self._failed(now_ms, f"web preview: {exc}", ExitStatus.BAD_INPUT)
        except TradekitError as exc:
            return self._failed(now_ms, f"web preview: {exc}", exc.status)
        for record in outcome.records:
            self._write(record)
        for warning in outcome.warnings:
            reporter.warning(warning)
        for problem in outcome.problems:
            reporter.error(problem)
        reporter.detail(f"{self.channel}: {len(outcome.records)} record(s)")
        return ExitStatus.BAD_INPUT if outcome.problems else ExitStatus.OK

    def forever(self, selection: Selection, *, sleep: Callable[[float], None]) -> ExitStatus:
        """Poll until interrupted; a failed poll is reported and the next one tried."""
        self.once(selection)
        while True:
            sleep(self.session.config.telegram.polling_seconds)
            self.once(Selection())  # only the first poll pages back for --since/--backfill

    def _failed(self, now_ms: int, error: str, status: ExitStatus) -> ExitStatus:
        self.session.reporter.error(error)
        self.poller.follower.record_error(self.channel, now_ms, error)
        return status

    def _write(self, record: TelegramMessage) -> None:
        line = jsonio.dumps(record.to_json_dict())
        sys.stdout.buffer.write(self.session.redactor.bytes(line) + b"\n")
        sys.stdout.flush()  # one post at a time down the pipe


def _when(ms: int | None) -> str:
    if ms is None:
        return "never"
    return f"{datetime.fromtimestamp(ms / 1000, UTC):%Y-%m-%d %H:%M:%S}Z"


def _stale(row: ChannelRow, now_ms: int, limit_minutes: float) -> bool:
    return row.last_ok_ms is None or now_ms - row.last_ok_ms > limit_minutes * 60_000


def list_channels(
    session: Session, limit_minutes: float, json_output: bool, out: IO[str]
) -> ExitStatus:
    from tradekit.cli.tables import Column, Table, show

    now_ms = int(session.clock.now().timestamp() * 1000)
    with Store(session.home.db_file, session.redactor) as store:
        rows = Follower(store).channels()
    if not rows:
        session.reporter.note("no channel followed yet (run `tk tg poll CHANNEL`)")
        return ExitStatus.OK
    table = Table((
        Column("channel"), Column("last id", numeric=True), Column("last poll"),
        Column("last good poll"), Column("posts", numeric=True), Column("edits", numeric=True),
        Column("deletes", numeric=True), Column("errors", numeric=True), Column("status"),
        Column("last error"),
    ))  # fmt: skip
    for row in rows:
        status = "stale" if _stale(row, now_ms, limit_minutes) else "ok"
        if json_output:
            out.write(jsonio.dumps({
                "channel": row.channel, "lastId": row.last_id,
                "lastPoll": _iso(row.last_poll_ms), "lastOk": _iso(row.last_ok_ms),
                "posts": row.posts, "edits": row.edits, "deletes": row.deletes,
                "errors": row.errors, "lastError": row.last_error, "status": status,
            }).decode() + "\n")  # fmt: skip
            continue
        table.add(
            row.channel, row.last_id, _when(row.last_poll_ms), _when(row.last_ok_ms), row.posts,
            row.edits, row.deletes, row.errors, status, row.last_error,
        )  # fmt: skip
    if not json_output:
        show(table, stream=out)
    stale = [row.channel for row in rows if _stale(row, now_ms, limit_minutes)]
    if stale:
        session.reporter.warning(
            f"stale (no good poll in {limit_minutes:g} min): {', '.join(stale)}"
        )
        return ExitStatus.TRY_AGAIN_LATER
    return ExitStatus.OK


def _iso(ms: int | None) -> datetime | None:
    return None if ms is None else datetime.fromtimestamp(ms / 1000, UTC)


def listen(session: Session, specs: list[str], *, once: bool, login: bool) -> ExitStatus:
    """tk tg listen: log in with the session file, follow `specs` until interrupted."""
    import asyncio
    import os

    from tradekit.telegram.sources.account import credentials, session_file

    settings = session.config.telegram
    api_id, api_hash = credentials(os.environ, settings.api_id_env, settings.api_hash_env)
    path = session_file(session.home.root)
    with Store(session.home.db_file, session.redactor) as store:
        follower = Follower(store, window_posts=settings.window_posts)
        asyncio.run(_listen(
            session, follower, path=path, api_id=api_id, api_hash=api_hash, specs=specs,
            once=once, login=login,
        ))  # fmt: skip
    return ExitStatus.OK


async def _listen(
    session: Session,
    follower: Follower,
    *,
    path: Path,
    api_id: int,
    api_hash: str,
    specs: list[str],
    once: bool,
    login: bool,
) -> None:
    import asyncio

    from telethon import TelegramClient

    from tradekit.errors import ConfigError, ExchangeUnavailableError
    from tradekit.telegram.listen import Listener
    from tradekit.telegram.media import MediaStore
    from tradekit.telegram.sources.account import ReadOnlyClient

    settings = session.config.telegram
    media = None
    if settings.download_media:
        media = MediaStore(follower.store, session.home.root, max_bytes=settings.max_media_bytes)
    raw = TelegramClient(
        str(path.with_suffix("")), api_id, api_hash,
        flood_sleep_threshold=int(min(settings.max_retry_after_seconds, 60)),
    )  # fmt: skip
    client = ReadOnlyClient(raw)
    try:
        await client.connect()
    except (OSError, asyncio.IncompleteReadError) as exc:
        raise ExchangeUnavailableError(
            f"cannot reach Telegram: {type(exc).__name__}: {exc}"
        ) from None
    try:
        if not await client.is_user_authorized():
            if not (login and sys.stdin.isatty()):
                raise ConfigError(
                    f"{path}: not logged in: run `tk tg listen --login CHANNEL` once on a "
                    "terminal (it asks for the phone number and the code)"
                )
            await client.start()
        path.chmod(0o600)
        listener = Listener(
            client, follower, _record_writer(session), session.reporter.warning,
            lambda: int(session.clock.now().timestamp() * 1000), settings.polling_seconds,
            max_flood_wait=settings.max_retry_after_seconds, media=media,
        )  # fmt: skip
        await listener.run(specs, once=once)
    finally:
        await client.disconnect()


def _record_writer(session: Session) -> Callable[[TelegramMessage], None]:
    def write(record: TelegramMessage) -> None:
        line = jsonio.dumps(record.to_json_dict())
        sys.stdout.buffer.write(session.redactor.bytes(line) + b"\n")
        sys.stdout.flush()

    return write
