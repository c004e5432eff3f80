"""Store: migrations, WAL, runs and flags, redaction, and a busy database."""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from tradekit import store as store_module
from tradekit.errors import ConfigError, TryAgainLaterError
from tradekit.exitstatus import ExitStatus
from tradekit.redact import Redactor
from tradekit.store import SCHEMA_VERSION, RunRow, Store, process_start_ticks

NOW = datetime(2026, 11, 20, 10, 0, 0, tzinfo=UTC)
SECRET = "s3cr3t-passphrase-xyz"


def _tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall()
    return {name for (name,) in rows}


def _user_version(path: Path) -> int:
    db = sqlite3.connect(path)
    try:
        return db.execute("PRAGMA user_version").fetchone()[0]
    finally:
        db.close()


def test_fresh_store_is_migrated_and_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "tradekit.db"
    with Store(path) as store:
        assert store.schema_version == SCHEMA_VERSION == len(store_module.MIGRATIONS)
        assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert path.exists()
    assert _user_version(path) == SCHEMA_VERSION
    assert {"runs", "flags"} <= _tables(path)
    # WAL is a property of the file: a plain connection sees it too.
    db = sqlite3.connect(path)
    try:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        db.close()


def test_reopening_does_not_rerun_migrations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "tradekit.db"
    with Store(path) as store:
        run_id = store.start_run("risk", "dry-run", NOW)
        store.set_flag("kill_switch", True, NOW)
    # Any migration that ran now would fail loudly.
    monkeypatch.setattr(
        store_module, "MIGRATIONS", tuple("THIS IS NOT SQL" for _ in range(SCHEMA_VERSION))
    )
    with Store(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert [run.id for run in store.recent_runs()] == [run_id]
        assert store.get_flag("kill_switch") is True


def test_failed_migration_is_rolled_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "tradekit.db"
    broken = ("CREATE TABLE half_done (x INTEGER); THIS IS NOT SQL",)
    monkeypatch.setattr(store_module, "MIGRATIONS", broken)
    monkeypatch.setattr(store_module, "SCHEMA_VERSION", 1)
    with pytest.raises(ConfigError):
        Store(path)
    assert _user_version(path) == 0
    assert "half_done" not in _tables(path)
    monkeypatch.undo()
    with Store(path) as store:
        assert store.schema_version == SCHEMA_VERSION


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "tradekit.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE future (x)")
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.commit()
    db.close()
    with pytest.raises(ConfigError, match="newer") as info:
        Store(path)
    assert info.value.status == ExitStatus.CONFIG
    # The newer database is left as it was.
    assert _user_version(path) == SCHEMA_VERSION + 1
    assert _tables(path) == {"future"}


def test_a_file_that_is_not_a_database_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "tradekit.db"
    content = b"this is not a SQLite database, just some text\n" * 100
    path.write_bytes(content)
    with pytest.raises(ConfigError) as info:
        Store(path)
    assert str(path) in str(info.value)
    assert path.read_bytes() == content


def test_runs_round_trip(tmp_path: Path) -> None:
    started = datetime(2026, 11, 20, 18, 0, 0, tzinfo=timezone(timedelta(hours=8)))
    finished = datetime(2026, 11, 20, 10, 0, 5, 250000, tzinfo=UTC)
    with Store(tmp_path / "tradekit.db") as store:
        first = store.start_run("risk", "dry-run", started)
        second = store.start_run("exec", None, NOW)
        assert first != second
        store.finish_run(first, finished, read=3, written=2, bad=1, status=65)
        runs = store.recent_runs()
        me = (os.getpid(), process_start_ticks(os.getpid()))  # the process behind each run
        assert runs == [
            RunRow(second, "exec", None, "2026-11-20T10:00:00Z", None, None, None, None, None, *me),
            RunRow(
                first,
                "risk",
                "dry-run",
                "2026-11-20T10:00:00Z",
                "2026-11-20T10:00:05.250000Z",
                3,
                2,
                1,
                65,
                *me,
            ),
        ]
        assert store.recent_runs(limit=1) == runs[:1]
    with Store(tmp_path / "tradekit.db") as store:
        assert store.recent_runs() == runs


def test_flags_round_trip_with_exact_decimals(tmp_path: Path) -> None:
    with Store(tmp_path / "tradekit.db") as store:
        assert store.get_flag("missing") is None
        value = {"on": True, "limit": Decimal("60800.10"), "reasons": ["manual"], "n": 3}
        store.set_flag("kill_switch", value, NOW)
        got = store.get_flag("kill_switch")
        assert got == value
        assert isinstance(got["limit"], Decimal)
        assert str(got["limit"]) == "60800.10"
        assert isinstance(got["n"], int)
        # Setting again replaces the value and the time.
        later = NOW + timedelta(minutes=1)
        store.set_flag("kill_switch", False, later)
        assert store.get_flag("kill_switch") is False
        rows = store.db.execute("SELECT key, value, updated_at FROM flags").fetchall()
        assert rows == [("kill_switch", "false", "2026-11-20T10:01:00Z")]


def test_flag_values_are_redacted_before_they_are_stored(tmp_path: Path) -> None:
    path = tmp_path / "tradekit.db"
    with Store(path, Redactor([SECRET])) as store:
        store.set_flag("note", {"why": f"passphrase is {SECRET}", "raw": SECRET}, NOW)
        assert store.get_flag("note") == {"why": "passphrase is [redacted]", "raw": "[redacted]"}
    db = sqlite3.connect(path)
    try:
        (raw,) = db.execute("SELECT value FROM flags WHERE key='note'").fetchone()
    finally:
        db.close()
    assert SECRET not in raw
    assert "[redacted]" in raw
    for file in (path, path.with_name(path.name + "-wal")):
        if file.exists():
            assert SECRET.encode() not in file.read_bytes()


def test_write_while_another_connection_holds_the_lock_is_try_again_later(
    tmp_path: Path,
) -> None:
    path = tmp_path / "tradekit.db"
    with Store(path, busy_timeout=0.2) as store:
        other = sqlite3.connect(path, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            with pytest.raises(TryAgainLaterError) as info:
                store.set_flag("kill_switch", True, NOW)
            assert info.value.status == ExitStatus.TRY_AGAIN_LATER
            with pytest.raises(TryAgainLaterError):
                store.start_run("risk", "dry-run", NOW)
            # Readers are not blocked by the writer (WAL).
            assert store.recent_runs() == []
            other.execute("ROLLBACK")
        finally:
            other.close()
        # Once the lock is gone the same store writes normally.
        store.set_flag("kill_switch", True, NOW)
        assert store.get_flag("kill_switch") is True


def test_opening_a_database_that_needs_migrating_while_locked_is_try_again_later(
    tmp_path: Path,
) -> None:
    path = tmp_path / "tradekit.db"
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("PRAGMA journal_mode=WAL")
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(TryAgainLaterError):
            Store(path, busy_timeout=0.2)
        other.execute("ROLLBACK")
    finally:
        other.close()
    with Store(path) as store:
        assert store.schema_version == SCHEMA_VERSION
