"""The loop every pipeline stage runs: read, validate, act, journal, write — line by line.

A stage is a name, the record model it reads, and a `process` function that returns the
record to write. The runner owns everything else, so every stage behaves the same: bad
lines handled per --on-error, the audit entry appended before the record is written (with
SIGINT/SIGTERM held back in between), stdout flushed per line (per read, for a pure
stage: a file goes through in blocks, a line arriving alone is answered at once), a broken
pipe ending the run quietly, and the run recorded in the store.
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
    parse_line,
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
    #: `process` acts on nothing outside the run (no orders, no database): the lines of
    #: one read are worked through together, journaled in one write and written in one.
    #: Otherwise each line is acted on, journaled and written before the next is read.
    pure: bool = False


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
        with InterruptGuard() as guard:
            try:
                for lines in inputs.batches():
                    groups = [lines] if self.stage.pure else [[line] for line in lines]
                    for group in groups:
                        if not self._group(group, tally, guard):
                            return ExitStatus.BAD_INPUT
            except BrokenPipeError:
                silence_stdout_after_broken_pipe()
                return ExitStatus.BROKEN_PIPE
        return ExitStatus.BAD_INPUT if tally.invalid else ExitStatus.OK

    def _group(self, lines: list[InputLine], tally: StreamTally, guard: InterruptGuard) -> bool:
        """Act on a group of lines, journal what they gave, then write it. False: stop (a
        bad line under --on-error fail; what came before it is journaled and written)."""
        stage = self.stage
        model, name, select, process = stage.model, stage.name, stage.select, stage.process
        redactor = self.writer.redactor
        journal: list[tuple[str, int, bytes]] = []
        # bytes only: each record is let go as soon as it is written out (fewer objects
        # alive, less for the garbage collector to look through)
        output: list[bytes] = []
        as_written = self.writer.as_written
        going_on = True
        with guard.critical():  # act and journal: never interrupted in between
            for line in lines:
                result = parse_line(line, model, name, redactor, select)
                if result is None:
                    continue
                tally.read += 1
                if isinstance(result, Invalid):
                    tally.invalid += 1
                    self._bad_line(result, output)
                    if self.on_error is OnError.FAIL:
                        tally.stopped_at = result.line
                        self.reporter.error(
                            f"stopped at {result.line.where} (--on-error fail); "
                            "lines after it were not read"
                        )
                        going_on = False
                        break
                    continue
                out = process(result)
                if out is None:
                    continue
                data = to_json_bytes(out)  # serialised once, for both
                journal.append((line.source, line.number, data))
                output.append(as_written(data, out))
            if self.trail is not None and journal:
                self.trail.append_inputs(self.clock.now(), stage.name, journal, mode=self.mode.mode)
        self.writer.write_group(output)
        tally.written += len(journal)
        return going_on

    def _bad_line(self, result: Invalid, output: list[bytes]) -> None:
        error = result.error.to_json_dict()
        self.reporter.bad_line(result.error)
        self.errors.append(self.clock.now(), self.stage.name, error, mode=self.mode.mode)
        if self.on_error is OnError.EMIT:
            # in its place among the records
            output.append(self.writer.as_written(to_json_bytes(error), error))


def passthrough(parsed: Parsed[Any]) -> Extended:
    """Write the record exactly as it was read (every field, known or not)."""
    return Extended(parsed, {})
