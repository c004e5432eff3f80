"""AuditLog: concurrent appends from many processes, the entry envelope, file safety."""

from __future__ import annotations

import json
import multiprocessing
import os
import stat
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

from tradekit import jsonio
from tradekit.audit import AuditLog
from tradekit.redact import Redactor

WRITERS = 8
LINES_PER_WRITER = 2000
PIPE_BUF = 4096


def _pad_length(writer: int, seq: int) -> int:
    """Varied line lengths: mostly short, some around PIPE_BUF, some well over 8 KiB."""
    if seq % 97 == 0:
        return 9000 + (writer * 131 + seq) % 7000  # > 8 KiB, > PIPE_BUF
    if seq % 13 == 0:
        return PIPE_BUF - 64 + (seq % 128)  # straddles PIPE_BUF
    return (writer * 7 + seq * 31) % 300


def _pad(writer: int, seq: int) -> str:
    # Each writer pads with its own letter, so a line torn by another writer shows.
    return chr(ord("a") + writer) * _pad_length(writer, seq)


def _append_many(path: str, writer: int, count: int, barrier: object) -> None:
    """Runs in a child process: its own AuditLog (own fd), all writers released at once."""
    barrier.wait()  # type: ignore[attr-defined]
    when = datetime(2026, 11, 20, 10, 0, 0, tzinfo=UTC)
    with AuditLog(Path(path)) as log:
        for seq in range(count):
            record = {"writer": writer, "seq": seq, "pad": _pad(writer, seq)}
            log.append(when, "test", record, writer=writer)


def test_concurrent_appends_from_many_processes_lose_and_tear_nothing(tmp_path: Path) -> None:
    path = tmp_path / "logs" / "decisions.jsonl"
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(WRITERS)
    procs = [
        ctx.Process(target=_append_many, args=(str(path), w, LINES_PER_WRITER, barrier))
        for w in range(WRITERS)
    ]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=300)
    assert [proc.exitcode for proc in procs] == [0] * WRITERS

    data = path.read_bytes()
    assert data.endswith(b"\n")
    lines = data.split(b"\n")[:-1]
    assert len(lines) == WRITERS * LINES_PER_WRITER
    # Some lines really were bigger than an atomic pipe write.
    assert sum(len(line) > 8192 for line in lines) >= WRITERS * (LINES_PER_WRITER // 97)

    seen: dict[tuple[int, int], int] = {}
    last_seq = dict.fromkeys(range(WRITERS), -1)
    for line in lines:
        entry = json.loads(line)  # a torn or interleaved line does not parse
        record = entry["record"]
        writer, seq = record["writer"], record["seq"]
        assert entry["writer"] == writer
        assert record["pad"] == _pad(writer, seq)
        key = (writer, seq)
        seen[key] = seen.get(key, 0) + 1
        # One writer's lines stay in the order it wrote them.
        assert seq > last_seq[writer]
        last_seq[writer] = seq
    expected = {(w, s) for w in range(WRITERS) for s in range(LINES_PER_WRITER)}
    assert set(seen) == expected
    assert all(count == 1 for count in seen.values())


def test_append_writes_the_envelope_with_utc_z_time(tmp_path: Path) -> None:
    path = tmp_path / "decisions.jsonl"
    plus8 = timezone(timedelta(hours=8))
    with AuditLog(path) as log:
        log.append(
            datetime(2026, 11, 20, 18, 0, 0, tzinfo=plus8),
            "risk",
            {"cycleId": "c1"},
            mode="dry-run",
            input="<stdin>:1",
        )
        log.append(
            datetime(2026, 11, 20, 10, 0, 0, 123456, tzinfo=UTC), "exec", [1, 2], mode="paper"
        )
    first, second = (json.loads(line) for line in path.read_text("utf-8").splitlines())
    assert list(first) == ["ts", "stage", "mode", "input", "record"]
    assert first == {
        "ts": "2026-11-20T10:00:00Z",
        "stage": "risk",
        "mode": "dry-run",
        "input": "<stdin>:1",
        "record": {"cycleId": "c1"},
    }
    assert list(second) == ["ts", "stage", "mode", "record"]
    assert second["ts"] == "2026-11-20T10:00:00.123456Z"
    assert second["record"] == [1, 2]


def test_decimals_are_written_as_exact_json_numbers(tmp_path: Path) -> None:
    path = tmp_path / "decisions.jsonl"
    record = {
        "price": Decimal("60800.10"),
        "qty": Decimal("0.0010"),
        "tiny": Decimal("0.00000001"),
        "big": Decimal("123456789012345678901234567890.123456789"),
        "neg": Decimal("-2.50"),
    }
    with AuditLog(path) as log:
        log.append(datetime(2026, 11, 20, 10, tzinfo=UTC), "risk", record)
    text = path.read_text("utf-8")
    assert '"price":60800.10' in text
    assert '"qty":0.0010' in text
    assert '"tiny":0.00000001' in text
    assert '"big":123456789012345678901234567890.123456789' in text
    assert '"neg":-2.50' in text
    assert '"60800.10"' not in text  # a number, not a string
    back = jsonio.loads(text.strip())["record"]
    assert back == record
    assert str(back["price"]) == "60800.10"


def test_append_line_adds_exactly_one_newline(tmp_path: Path) -> None:
    path = tmp_path / "raw.jsonl"
    with AuditLog(path) as log:
        log.append_line(b'{"a":1}')
        log.append_line(b'{"b":2}\n')
    assert path.read_bytes() == b'{"a":1}\n{"b":2}\n'


def test_audit_lines_are_redacted(tmp_path: Path) -> None:
    path = tmp_path / "decisions.jsonl"
    secret = "hunter2-very-secret"
    with AuditLog(path, Redactor([secret])) as log:
        log.append(datetime(2026, 11, 20, 10, tzinfo=UTC), "risk", {"reason": f"pw {secret}"})
    text = path.read_text("utf-8")
    assert secret not in text
    assert json.loads(text)["record"]["reason"] == "pw [redacted]"


def test_new_file_is_private_whatever_the_umask(tmp_path: Path) -> None:
    path = tmp_path / "logs" / "errors.jsonl"
    old_umask = os.umask(0)
    try:
        with AuditLog(path) as log:
            log.append_line(b"{}")
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_existing_content_is_never_rewritten(tmp_path: Path) -> None:
    path = tmp_path / "decisions.jsonl"
    old = b'{"old":1}\n{"old":2,"note":"written by someone else"}\n'
    path.write_bytes(old)
    when = datetime(2026, 11, 20, 10, tzinfo=UTC)
    with AuditLog(path) as log:
        log.append(when, "risk", {"new": 1})
    after_first = path.read_bytes()
    assert after_first.startswith(old)
    assert len(after_first) > len(old)
    # A second, independent writer appends after everything already there.
    with AuditLog(path) as log:
        log.append(when, "risk", {"new": 2})
    after_second = path.read_bytes()
    assert after_second.startswith(after_first)
    new_lines = after_second[len(old) :].splitlines()
    assert [json.loads(line)["record"] for line in new_lines] == [{"new": 1}, {"new": 2}]


def test_records_of_one_read_are_appended_together_each_naming_its_line(tmp_path: Path) -> None:
    path = tmp_path / "decisions.jsonl"
    ts = datetime(2026, 11, 20, 10, tzinfo=UTC)
    with AuditLog(path, Redactor(["hunter2-very-secret"])) as log:
        log.append_inputs(
            ts,
            "risk",
            [
                ("<stdin>", 1, b'{"a":1}'),
                ('my "plans".jsonl', 3, b'{"b":"hunter2-very-secret"}'),
                ("<stdin>", 4, b"{}"),
            ],
            mode="paper",
        )
        log.append_inputs(ts, "risk", [], mode="paper")
    assert path.read_text().splitlines() == [
        '{"ts":"2026-11-20T10:00:00Z","stage":"risk","mode":"paper","input":"<stdin>:1",'
        '"record":{"a":1}}',
        '{"ts":"2026-11-20T10:00:00Z","stage":"risk","mode":"paper",'
        '"input":"my \\"plans\\".jsonl:3","record":{"b":"[redacted]"}}',
        '{"ts":"2026-11-20T10:00:00Z","stage":"risk","mode":"paper","input":"<stdin>:4",'
        '"record":{}}',
    ]
    assert json.loads(path.read_text().splitlines()[1])["input"] == 'my "plans".jsonl:3'
