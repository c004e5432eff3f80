"""Append-only JSONL audit trails under TK_HOME/logs.

Each entry is one complete line written with a single O_APPEND write under an exclusive
flock, so any number of processes (a cron pipe, the guard, a manual run) can append to the
same file at once without losing or tearing a line. Lines are never rewritten.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from tradekit import jsonio
from tradekit.redact import Redactor


def is_entry(obj: dict[str, Any]) -> bool:
    """Whether a JSON object is an audit entry (rather than a bare record)."""
    return isinstance(obj.get("record"), dict) and "stage" in obj and "ts" in obj


class AuditLog:
    def __init__(self, path: Path, redactor: Redactor | None = None, *, durable: bool = False):
        self.path = path
        self._redactor = redactor or Redactor()
        self._durable = durable
        self._fd: int | None = None

    def _open(self) -> int:
        if self._fd is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        return self._fd

    def append_line(self, line: bytes) -> None:
        """Append one line (a trailing newline is added). The bytes are redacted first."""
        self._append(self._redactor.bytes(line.rstrip(b"\n")) + b"\n")

    def append_lines(self, lines: Sequence[bytes]) -> None:
        """Append complete lines (no newline in them) in one write: they land together."""
        if lines:
            self._append(self._redactor.bytes(b"\n".join(lines)) + b"\n")

    def _append(self, data: bytes) -> None:
        fd = self._open()
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            if self._durable:
                os.fsync(fd)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)

    def append(self, ts: datetime, stage: str, record: Any, **meta: Any) -> None:
        """One audit entry: `{"ts", "stage", ...meta, "record"}`."""
        # orjson writes an aware datetime as ISO 8601 with Z, in C
        entry = {"ts": ts.astimezone(UTC), "stage": stage, **meta, "record": record}
        self.append_line(jsonio.dumps(entry))

    def append_inputs(
        self, ts: datetime, stage: str, records: Sequence[tuple[str, int, bytes]], **meta: Any
    ) -> None:
        """`append` for records already serialised as compact JSON, each with the input line
        it came from (source, line number: `"input":"source:number"`), in one write under
        one timestamp."""
        head = jsonio.dumps({"ts": ts.astimezone(UTC), "stage": stage, **meta})[:-1]
        heads: dict[str, bytes] = {}  # the entry up to the line number, per source
        lines = []
        for source, number, record in records:
            start = heads.get(source)
            if start is None:
                quoted = orjson.dumps(source + ":")[:-1]
                start = heads[source] = head + b',"input":' + quoted
            lines.append(b'%s%d","record":%s}' % (start, number, record))
        self.append_lines(lines)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
