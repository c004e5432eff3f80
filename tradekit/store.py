"""The SQLite store: one database per TK_HOME, opened only through this module.

WAL mode so readers never block the writer; `BEGIN IMMEDIATE` transactions and unique keys
are what make overlapping cron runs safe. The schema is versioned with `PRAGMA
user_version`: each entry of MIGRATIONS moves it up by one, inside one transaction.
Anything written as JSON passes through the redactor first.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from tradekit import jsonio
from tradekit.clock import format_time
from tradekit.errors import ConfigError, TryAgainLaterError
from tradekit.redact import Redactor

#: MIGRATIONS[i] takes the schema from version i to i + 1. Append only; never edit one.
MIGRATIONS: tuple[str, ...] = (
    # v1: command runs (what ran, when, how it ended) and system flags (kill switch, ...).
    """
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        stage TEXT NOT NULL,
        mode TEXT,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        records_read INTEGER,
        records_written INTEGER,
        bad_lines INTEGER,
        exit_status INTEGER
    );
    CREATE INDEX runs_stage_started ON runs (stage, started_at);
    CREATE TABLE flags (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    """,
    # v2: paper trading accounts (the engine's whole state, one JSON document per account).
    """
    CREATE TABLE paper_accounts (
        name TEXT PRIMARY KEY,
        state TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    """,
    # v3: cached exchange data (markets), refreshed by age.
    """
    CREATE TABLE exchange_cache (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        fetched_ms INTEGER NOT NULL
    );
    """,
    # v4: the execution ledger (one row per plan identity, unique: the idempotency key) and
    # the positions closed (written by the guard; the consecutive stop-loss breaker reads it).
    """
    CREATE TABLE intents (
        key TEXT PRIMARY KEY,
        cycle_id TEXT NOT NULL,
        symbol TEXT,
        side TEXT,
        level TEXT,
        action TEXT NOT NULL,
        mode TEXT NOT NULL,
        status TEXT NOT NULL,
        created_ms INTEGER NOT NULL,
        updated_ms INTEGER NOT NULL,
        orders TEXT NOT NULL,
        result TEXT
    );
    CREATE INDEX intents_entries ON intents (mode, action, created_ms);
    CREATE TABLE closes (
        id INTEGER PRIMARY KEY,
        mode TEXT NOT NULL,
        symbol TEXT NOT NULL,
        side TEXT NOT NULL,
        reason TEXT NOT NULL,
        pnl TEXT NOT NULL,
        closed_ms INTEGER NOT NULL
    );
    CREATE INDEX closes_time ON closes (mode, closed_ms);
    """,
    # v5: the positions tk-guard manages (what the exchange holds, and why and how it is
    # being managed: stop, trailing, take-profits taken, ...), one row per position.
    """
    CREATE TABLE guard_positions (
        id INTEGER PRIMARY KEY,
        mode TEXT NOT NULL,
        symbol TEXT NOT NULL,
        side TEXT NOT NULL,
        status TEXT NOT NULL,
        opened_ms INTEGER NOT NULL,
        closed_ms INTEGER,
        close_reason TEXT,
        state TEXT NOT NULL
    );
    CREATE UNIQUE INDEX guard_positions_open ON guard_positions (mode, symbol, side)
        WHERE status = 'open';
    """,
    # v6: the news cache (tk news fetch writes it, tk-news-gate reads it): the items with
    # when each was consumed (the "once" policy), and each source's last fetch.
    """
    CREATE TABLE news_items (
        id TEXT PRIMARY KEY,
        source TEXT NOT NULL,
        title TEXT NOT NULL,
        url TEXT,
        published_ms INTEGER NOT NULL,
        fetched_ms INTEGER NOT NULL,
        consumed_ms INTEGER
    );
    CREATE INDEX news_items_time ON news_items (published_ms);
    CREATE TABLE news_sources (
        name TEXT PRIMARY KEY,
        last_attempt_ms INTEGER NOT NULL,
        last_ok_ms INTEGER,
        last_error TEXT,
        items INTEGER NOT NULL DEFAULT 0
    );
    """,
    # v7: consumption is per item *and symbol* (an item about BTC and ETH blocks one cycle of
    # each under consume = "once"); news_items.consumed_ms is no longer used.
    """
    CREATE TABLE news_consumed (
        item_id TEXT NOT NULL,
        symbol TEXT NOT NULL,
        consumed_ms INTEGER NOT NULL,
        PRIMARY KEY (item_id, symbol)
    );
    """,
    # v8: the process behind each run (pid and its start time, which tells a reused pid
    # apart), so that a run killed by SIGKILL shows as died, not as running forever.
    """
    ALTER TABLE runs ADD COLUMN pid INTEGER;
    ALTER TABLE runs ADD COLUMN pid_started INTEGER;
    """,
    # v9: the approvals tk-risk gave (a sha256 over the plan and its risk block, per mode):
    # tk-exec acts only on a risk block found here, recent enough (tradekit/risk/approvals.py).
    # One b-tree, ordered by cycleId (roughly the order they come in): tk-risk writes
    # thousands a second, and random digests as the key, or more indexes, cost 5x that.
    """
    CREATE TABLE approvals (
        cycle_id TEXT NOT NULL,
        digest TEXT NOT NULL,
        mode TEXT NOT NULL,
        approved_ms INTEGER NOT NULL,
        PRIMARY KEY (cycle_id, digest, mode)
    ) WITHOUT ROWID;
    """,
    # v10: followed Telegram channels (tk tg poll / listen): each channel's counters and last
    # poll; the newest posts seen (version, content hash, text) to tell edits and deletes;
    # downloaded photos, once per sha256, and the message versions they belong to; the
    # vision/text models' answers by (message, version, model, prompt version).
    """
    CREATE TABLE tg_channels (
        channel TEXT PRIMARY KEY,
        last_id INTEGER,
        last_poll_ms INTEGER,
        last_ok_ms INTEGER,
        last_error TEXT,
        posts INTEGER NOT NULL DEFAULT 0,
        edits INTEGER NOT NULL DEFAULT 0,
        deletes INTEGER NOT NULL DEFAULT 0,
        errors INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE tg_posts (
        channel TEXT NOT NULL,
        message_id INTEGER NOT NULL,
        version INTEGER NOT NULL,
        content_hash TEXT NOT NULL,
        edited INTEGER NOT NULL,
        date_ms INTEGER NOT NULL,
        text TEXT NOT NULL,
        deleted_ms INTEGER,
        PRIMARY KEY (channel, message_id)
    );
    CREATE TABLE tg_media (
        sha256 TEXT PRIMARY KEY,
        path TEXT NOT NULL,
        bytes INTEGER NOT NULL,
        url TEXT,
        fetched_ms INTEGER NOT NULL
    );
    CREATE TABLE tg_message_media (
        channel TEXT NOT NULL,
        message_id INTEGER NOT NULL,
        version INTEGER NOT NULL,
        sha256 TEXT NOT NULL REFERENCES tg_media (sha256),
        PRIMARY KEY (channel, message_id, version)
    );
    CREATE TABLE tg_model_cache (
        channel TEXT NOT NULL,
        message_id INTEGER NOT NULL,
        version INTEGER NOT NULL,
        model TEXT NOT NULL,
        prompt_version TEXT NOT NULL,
        answer TEXT NOT NULL,
        created_ms INTEGER NOT NULL,
        PRIMARY KEY (channel, message_id, version, model, prompt_version)
    );
    """,
    # v11: what each Telegram post produced (tk-parse-tg), so a reply that names no symbol
    # is resolved from the post it replies to; the latest version of a post wins.
    """
    CREATE TABLE telegram_posts (
        channel TEXT NOT NULL,
        message_id INTEGER NOT NULL,
        version INTEGER NOT NULL,
        kind TEXT NOT NULL,
        action TEXT,
        symbol TEXT,
        side TEXT,
        PRIMARY KEY (channel, message_id)
    );
    CREATE INDEX telegram_posts_action ON telegram_posts (channel, action, message_id);
    CREATE INDEX telegram_posts_symbol ON telegram_posts (channel, symbol, action, message_id);
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)
#: How long to wait for another process's write transaction before giving up (exit 75).
BUSY_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class RunRow:
    id: int
    stage: str
    mode: str | None
    started_at: str
    finished_at: str | None
    records_read: int | None
    records_written: int | None
    bad_lines: int | None
    exit_status: int | None
    pid: int | None = None
    pid_started: int | None = None

    @property
    def state(self) -> str:
        """`exit N` when it ended, `running` while its process lives, else `died` (killed
        by SIGKILL, or the machine went down, before it could record how it ended)."""
        if self.exit_status is not None:
            return f"exit {self.exit_status}"
        if self.pid is None or process_alive(self.pid, self.pid_started):
            return "running"  # a run of a version that recorded no pid is given the benefit
        return "died"


def process_start_ticks(pid: int) -> int | None:
    """When process `pid` started, in clock ticks since boot (Linux /proc); None elsewhere."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the command name (field 2) may hold spaces and parentheses: count from its end
    return int(stat.rsplit(")", 1)[1].split()[19])


def process_alive(pid: int, started: int | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, under another user
    return started is None or process_start_ticks(pid) in (None, started)


@dataclass
class PaperSlot:
    data: Any
    changed: bool = False

    def replace(self, data: Any) -> None:
        self.data, self.changed = data, True


class Store:
    def __init__(
        self, path: Path, redactor: Redactor | None = None, *, busy_timeout: float = BUSY_TIMEOUT_S
    ):
        self.path = path
        self._redactor = redactor or Redactor()
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(path, timeout=busy_timeout, isolation_level=None)
        except sqlite3.Error as exc:
            raise ConfigError(f"{path}: cannot open the database: {exc}") from None
        try:
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except sqlite3.OperationalError as exc:
            self.db.close()
            raise self._translate(exc) from None
        except sqlite3.DatabaseError as exc:
            self.db.close()
            raise ConfigError(f"{path}: not a usable tradekit database: {exc}") from None
        except BaseException:
            self.db.close()
            raise

    def _translate(self, exc: sqlite3.OperationalError) -> Exception:
        if "locked" in str(exc) or "busy" in str(exc):
            return TryAgainLaterError(f"{self.path}: database is busy ({exc}); try again")
        return ConfigError(f"{self.path}: {exc}")

    def in_memory_copy(self) -> Store:
        """A private copy of the database in memory: a dry run works on it, so the file is
        never written."""
        copy = Store.__new__(Store)
        copy.path, copy._redactor = Path(":memory:"), self._redactor
        copy.db = sqlite3.connect(":memory:", isolation_level=None)
        self.db.backup(copy.db)
        return copy

    @property
    def schema_version(self) -> int:
        return self.db.execute("PRAGMA user_version").fetchone()[0]

    def _migrate(self) -> None:
        if self.schema_version == SCHEMA_VERSION:
            return
        with self.transaction():
            current = self.schema_version
            if current > SCHEMA_VERSION:
                raise ConfigError(
                    f"{self.path}: database schema v{current} is newer than this tradekit "
                    f"(v{SCHEMA_VERSION}); upgrade tradekit"
                )
            for version in range(current, SCHEMA_VERSION):
                for statement in MIGRATIONS[version].split(";"):
                    if statement.strip():
                        self.db.execute(statement)
            self.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction that takes the write lock up front (no upgrade deadlocks)."""
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise self._translate(exc) from None
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        else:
            self.db.execute("COMMIT")

    def to_json(self, value: Any) -> str:
        return self._redactor.bytes(jsonio.dumps(value)).decode("utf-8")

    # -- runs --------------------------------------------------------------------------

    def start_run(self, stage: str, mode: str | None, started: datetime) -> int:
        with self.transaction() as db:
            pid = os.getpid()
            cursor = db.execute(
                "INSERT INTO runs (stage, mode, started_at, pid, pid_started) "
                "VALUES (?, ?, ?, ?, ?)",
                (stage, mode, format_time(started), pid, process_start_ticks(pid)),
            )
            return int(cursor.lastrowid or 0)

    def finish_run(
        self, run_id: int, finished: datetime, *, read: int, written: int, bad: int, status: int
    ) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE runs SET finished_at=?, records_read=?, records_written=?, "
                "bad_lines=?, exit_status=? WHERE id=?",
                (format_time(finished), read, written, bad, status, run_id),
            )

    def recent_runs(self, limit: int = 10) -> list[RunRow]:
        rows = self.db.execute(
            "SELECT id, stage, mode, started_at, finished_at, records_read, records_written, "
            "bad_lines, exit_status, pid, pid_started FROM runs ORDER BY id DESC LIMIT ?",
            (limit,),
        ).fetchall()
        return [RunRow(*row) for row in rows]

    # -- flags -------------------------------------------------------------------------

    def set_flag(self, key: str, value: Any, now: datetime) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO flags (key, value, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value=excluded.value, "
                "updated_at=excluded.updated_at",
                (key, self.to_json(value), format_time(now)),
            )

    def delete_flag(self, key: str) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM flags WHERE key=?", (key,))

    def get_flag(self, key: str) -> Any:
        row = self.db.execute("SELECT value FROM flags WHERE key=?", (key,)).fetchone()
        return None if row is None else jsonio.loads(row[0])

    # -- cache -------------------------------------------------------------------------

    def cached(self, key: str, max_age_ms: int, now_ms: int) -> str | None:
        row = self.db.execute(
            "SELECT value, fetched_ms FROM exchange_cache WHERE key=?", (key,)
        ).fetchone()
        if row is None or now_ms - row[1] > max_age_ms:
            return None
        return row[0]

    def cache(self, key: str, value: str, now_ms: int) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO exchange_cache (key, value, fetched_ms) VALUES (?, ?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value=excluded.value, "
                "fetched_ms=excluded.fetched_ms",
                (key, self._redactor.text(value), now_ms),
            )

    # -- paper accounts ----------------------------------------------------------------

    @contextmanager
    def paper_account(self, name: str, now: datetime) -> Iterator[PaperSlot]:
        """Read-modify-write one paper account under the write lock: concurrent runs see
        each other's changes whole, never half."""
        with self.transaction() as db:
            row = db.execute("SELECT state FROM paper_accounts WHERE name=?", (name,)).fetchone()
            slot = PaperSlot(None if row is None else jsonio.loads(row[0]))
            yield slot
            if slot.changed:
                db.execute(
                    "INSERT INTO paper_accounts (name, state, updated_at) VALUES (?, ?, ?) "
                    "ON CONFLICT(name) DO UPDATE SET state=excluded.state, "
                    "updated_at=excluded.updated_at",
                    # not redacted: the account holds no secrets, and masking a value
                    # that happens to look like one would corrupt it
                    (name, jsonio.dumps(slot.data).decode("utf-8"), format_time(now)),
                )

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
