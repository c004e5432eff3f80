"""Per-intent locks, so two tk-exec processes never work on the same order bundle at once.

One lock file; each intent locks one byte of it at an offset taken from its key (POSIX
record locks). The kernel drops a process's locks when it dies, even by SIGKILL, so a
crashed run never leaves a lock behind for the next one to trip over.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

#: offsets spread over 2**40 bytes of a sparse, empty file: collisions only serialise
SPAN = 1 << 40


class IntentLocks:
    def __init__(self, path: Path):
        self.path = path
        self._fd: int | None = None

    def _file(self) -> int:
        if self._fd is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        return self._fd

    @contextmanager
    def hold(self, key: str, *, wait: bool = True) -> Iterator[bool]:
        """Lock `key` for the block; yields False (without waiting) if another process holds
        it and wait is False."""
        fd = self._file()
        offset = int(key[:16], 16) % SPAN
        flags = fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB)
        try:
            fcntl.lockf(fd, flags, 1, offset)
        except (BlockingIOError, PermissionError):
            yield False
            return
        try:
            yield True
        finally:
            fcntl.lockf(fd, fcntl.LOCK_UN, 1, offset)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
