"""The loop every pipeline stage runs: read, validate, act, journal, write — line by line.

A stage is a name, the record model it reads, and a `process` function that returns the
record to write. The runner owns everything else, so every stage behaves the same: bad
lines handled per --on-error, the audit entry appended before the record is written (with
SIGINT/SIGTERM held back in between), stdout flushed per line, a broken pipe ending the
run quietly, and the run recorded in the store.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic

from tradekit.audit import AuditLog
from tradekit.clock import Clock
from tradekit.exitstatus import ExitStatus
from tradekit.interrupts import InterruptGuard
from tradekit.modes import ModeChoice
from tradekit.reporter import Reporter
from tradekit.store import Store
from tradekit.stream import (
    Extended,
    InputLine,
    Inputs,
    Invalid,
    JsonlWriter,
    OnError,
    Parsed,
    R,
    Selector,
    parse_lines,
    silence_stdout_after_broken_pipe,
    to_json_bytes,
)


@dataclass
class StreamTally:
    read: int = 0
    written: int = 0
    invalid: int = 0
    stopped_at: InputLine | None = None


@dataclass(frozen=True)
class Stage(Generic[R]):
    name: str
    model: type[R]
    #: Returns the record to write, or None for a stage that only consumes (tk-report).
    process: Callable[[Parsed[R]], dict[str, Any] | Extended | None]
    #: Which audit trail under logs/ gets this stage's output records (None: no trail).
    audit_trail: str | None = "decisions"
    #: Optionally picks the record out of each input object (e.g. from an audit entry).
    select: Selector | None = None


@dataclass
class StageRun:
    stage: Stage[Any]
    clock: Clock
    mode: ModeChoice
    reporter: Reporter
    writer: JsonlWriter
    trail: AuditLog | None
    errors: AuditLog
    store: Store
    on_error: OnError

    def run(self, inputs: Inputs) -> tuple[ExitStatus, StreamTally]:
        tally = StreamTally()
        status = ExitStatus.OK
        run_id = self.store.start_run(self.stage.name, self.mode.mode, self.clock.now())
        try:
            status = self._loop(inputs, tally)
        finally:
            self.store.finish_run(
                run_id,
                self.clock.now(),
                read=tally.read,
                written=tally.written,
                bad=tally.invalid,
                status=int(status),
            )
        return status, tally

    def _loop(self, inputs: Inputs, tally: StreamTally) -> ExitStatus:
        stage = self.stage
        redactor = self.writer.redactor
        with InterruptGuard() as guard:
            try:
                for result in parse_lines(
                    inputs.lines(), stage.model, stage.name, redactor, stage.select
                ):
                    tally.read += 1
                    if isinstance(result, Invalid):
                        tally.invalid += 1
                        self._bad_line(result)
                        if self.on_error is OnError.FAIL:
                            tally.stopped_at = result.line
                            self.reporter.error(
                                f"stopped at {result.line.where} (--on-error fail); "
                                "lines after it were not read"
                            )
                            break
                        continue
                    with guard.critical():  # act and journal: never interrupted in between
                        out = stage.process(result)
                        if out is None:
                            continue
                        data = to_json_bytes(out)  # serialised once, for both
                        if self.trail is not None:
                            self.trail.append_record(
                                self.clock.now(),
                                stage.name,
                                data,
                                mode=self.mode.mode,
                                input=result.line.where,
                            )
                    self.writer.write_bytes(data, out)
                    tally.written += 1
            except BrokenPipeError:
                silence_stdout_after_broken_pipe()
                return ExitStatus.BROKEN_PIPE
        return ExitStatus.BAD_INPUT if tally.invalid else ExitStatus.OK

    def _bad_line(self, result: Invalid) -> None:
        error = result.error.to_json_dict()
        self.reporter.bad_line(result.error)
        self.errors.append(self.clock.now(), self.stage.name, error, mode=self.mode.mode)
        if self.on_error is OnError.EMIT:
            self.writer.write(error)


def passthrough(parsed: Parsed[Any]) -> Extended:
    """Write the record exactly as it was read (every field, known or not)."""
    return Extended(parsed, {})
