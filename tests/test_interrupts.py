"""SIGINT/SIGTERM are held back while a record is being acted on and journaled."""

from __future__ import annotations

import signal

import pytest

from tradekit.interrupts import deferred_interrupts


def test_sigint_waits_for_the_end_of_the_block() -> None:
    steps = []
    with pytest.raises(KeyboardInterrupt):
        with deferred_interrupts():
            signal.raise_signal(signal.SIGINT)  # synchronous: no other thread can take it
            steps.append("acted")
            steps.append("journaled")
        steps.append("after")  # never reached: the interrupt is delivered at the block's end
    assert steps == ["acted", "journaled"]


def test_handlers_are_restored() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with deferred_interrupts():
        assert signal.getsignal(signal.SIGTERM) is not before
    assert signal.getsignal(signal.SIGTERM) is before
