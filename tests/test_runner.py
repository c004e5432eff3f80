"""The stage loop: what is journaled and written when a pure stage's lines are worked through
together and something stops them half-way (an error, an interrupt, a bad line)."""

from __future__ import annotations

import io
import json
import signal
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tradekit.audit import AuditLog
from tradekit.clock import Clock
from tradekit.exitstatus import ExitStatus
from tradekit.modes import ModeChoice
from tradekit.records import TradePlan
from tradekit.redact import Redactor
from tradekit.reporter import Reporter
from tradekit.runner import Stage, StageRun, passthrough
from tradekit.store import Store
from tradekit.stream import Extended, Inputs, JsonlWriter, OnError, Parsed


def plan_line(cycle: str) -> bytes:
    return json.dumps({"tradePlanVersion": 1, "cycleId": cycle, "plan": None}).encode()


@dataclass
class Harness:
    tmp: Path
    stdout: io.BytesIO
    stderr: io.StringIO

    def journal(self) -> list[str]:
        path = self.tmp / "decisions.jsonl"
        lines = path.read_text().splitlines() if path.exists() else []
        return [json.loads(line)["record"]["cycleId"] for line in lines]

    def written(self) -> list[str]:
        return [
            json.loads(line).get("cycleId") or "error"
            for line in self.stdout.getvalue().splitlines()
        ]


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    yield Harness(tmp_path, io.BytesIO(), io.StringIO())


def run(
    harness: Harness,
    text: bytes,
    process: Callable[[Parsed[Any]], Extended | None],
    *,
    pure: bool = True,
    on_error: OnError = OnError.SKIP,
) -> ExitStatus:
    redactor = Redactor()
    with (
        Store(harness.tmp / "t.db") as store,
        AuditLog(harness.tmp / "decisions.jsonl") as trail,
        AuditLog(harness.tmp / "errors.jsonl") as errors,
    ):
        stage_run = StageRun(
            stage=Stage("t", TradePlan, process, pure=pure),
            clock=Clock(datetime(2026, 11, 20, 10, tzinfo=UTC)),
            mode=ModeChoice("dry-run", None),
            reporter=Reporter(harness.stderr, "tk-t"),
            writer=JsonlWriter(harness.stdout, redactor),
            trail=trail,
            errors=errors,
            store=store,
            on_error=on_error,
        )
        status, _tally = stage_run.run(Inputs([], io.BytesIO(text)))
    return status


LINES = b"\n".join(plan_line(f"c{i}") for i in range(5)) + b"\n"


def failing_at(cycle: str, error: BaseException) -> Callable[[Parsed[Any]], Extended]:
    def process(parsed: Parsed[Any]) -> Extended:
        if parsed.record.cycle_id == cycle:
            raise error
        return passthrough(parsed)

    return process


@pytest.mark.parametrize("pure", [True, False])
def test_an_error_half_way_loses_none_of_the_records_before_it(
    harness: Harness, pure: bool
) -> None:
    with pytest.raises(RuntimeError):
        run(harness, LINES, failing_at("c2", RuntimeError("bug")), pure=pure)
    assert harness.journal() == ["c0", "c1"]
    assert harness.written() == ["c0", "c1"]


def test_an_interrupt_half_way_journals_and_writes_what_was_done(harness: Harness) -> None:
    def process(parsed: Parsed[Any]) -> Extended:
        if parsed.record.cycle_id == "c2":
            signal.raise_signal(signal.SIGINT)  # delivered at once: a pure stage holds nothing
        return passthrough(parsed)

    with pytest.raises(KeyboardInterrupt):
        run(harness, LINES, process)
    assert harness.journal() == ["c0", "c1"]
    assert harness.written() == ["c0", "c1"]


def test_an_acting_stage_journals_the_line_it_was_interrupted_on(harness: Harness) -> None:
    """tk-exec: the interrupt waits until the plan it acted on is journaled."""

    def process(parsed: Parsed[Any]) -> Extended:
        if parsed.record.cycle_id == "c2":
            signal.raise_signal(signal.SIGINT)
        return passthrough(parsed)

    with pytest.raises(KeyboardInterrupt):
        run(harness, LINES, process, pure=False)
    assert harness.journal() == ["c0", "c1", "c2"]
    assert harness.written() == ["c0", "c1"]


def test_records_before_a_bad_line_go_out_before_it_is_reported(harness: Harness) -> None:
    text = plan_line("c0") + b"\n{broken\n" + plan_line("c1") + b"\n"
    writes: list[str] = []

    class Spy(io.StringIO):
        def write(self, text: str) -> int:
            writes.append(f"stderr after {len(harness.written())} record(s)")
            return super().write(text)

    harness.stderr = Spy()
    status = run(harness, text, passthrough, on_error=OnError.EMIT)
    assert status is ExitStatus.BAD_INPUT
    assert harness.written() == ["c0", "error", "c1"]
    assert writes == ["stderr after 1 record(s)"]
    assert harness.journal() == ["c0", "c1"]


def test_fail_stops_at_the_bad_line_with_what_came_before_delivered(harness: Harness) -> None:
    text = plan_line("c0") + b"\n{broken\n" + plan_line("c1") + b"\n"
    assert run(harness, text, passthrough, on_error=OnError.FAIL) is ExitStatus.BAD_INPUT
    assert harness.written() == ["c0"]
    assert harness.journal() == ["c0"]
    assert "stopped at <stdin>:2" in harness.stderr.getvalue()
