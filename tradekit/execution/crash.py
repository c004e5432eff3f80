"""Test hook: TK_TEST_CRASH_AT=<step> kills tk-exec with SIGKILL at that step, so the test
harness can prove that a crash at any point of an order bundle is recovered without a
second order. Unset (always, outside that harness) it does nothing."""

from __future__ import annotations

import os
import signal

ENV = "TK_TEST_CRASH_AT"


def crash_point(step: str) -> None:
    if os.environ.get(ENV) == step:
        os.kill(os.getpid(), signal.SIGKILL)
