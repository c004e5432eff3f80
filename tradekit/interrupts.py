"""Never die between acting and journaling.

Inside `deferred_interrupts()`, SIGINT and SIGTERM are held back and delivered when the
block ends, so an order that was sent is always written to the audit before we stop.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_DEFERRED = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def deferred_interrupts() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return
    received: list[int] = []
    previous = {sig: signal.getsignal(sig) for sig in _DEFERRED}

    def hold(signum: int, _frame: object) -> None:
        received.append(signum)

    for sig in _DEFERRED:
        signal.signal(sig, hold)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for signum in received:
            signal.raise_signal(signum)


def terminate_as_interrupt() -> None:
    """Make SIGTERM (cron's and systemd's stop) end the command like Ctrl-C does."""

    def _raise(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _raise)


class InterruptGuard:
    """`deferred_interrupts` for a whole run: the handler is installed once, and entering or
    leaving a critical section is a counter change, not two signal() calls per record."""

    def __init__(self) -> None:
        self._depth = 0
        self._pending: int | None = None
        self._previous: dict[int, object] = {}

    def _handle(self, signum: int, _frame: object) -> None:
        if self._depth:
            self._pending = signum  # delivered when the critical section ends
        else:
            raise KeyboardInterrupt

    def __enter__(self) -> InterruptGuard:
        if threading.current_thread() is threading.main_thread():
            for sig in _DEFERRED:
                self._previous[sig] = signal.getsignal(sig)
                signal.signal(sig, self._handle)
        return self

    def __exit__(self, *_exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]
        self._previous.clear()

    @contextmanager
    def critical(self) -> Iterator[None]:
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
            if not self._depth and self._pending is not None:
                self._pending = None
                raise KeyboardInterrupt
