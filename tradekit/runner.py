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
    #: `process` acts on nothing outside the run (no orders, no database), so it may be
    #: interrupted anywhere: the lines of one read are worked through together, journaled
    #: in one append and written in one write. Otherwise each line is acted on and
    #: journaled with interrupts held back, and written, before the next is read.
    pure: bool = False
    #: A pure stage's side record (tk-risk's approvals, tk-parse-tg's plan book), kept once
    #: per read: called before the read's records are journaled and written, so nothing
    #: downstream sees a record before what it stands for is committed.
    before_delivery: Callable[[], None] | None = None
    #: Reads a line itself instead of as a JSON record of `model` (tk-parse-tg --text).
    reader: Callable[[InputLine], Parsed[R] | Invalid | None] | None = None


@dataclass
class StageRun:
    stage: Stage[Any]
    clock: Clock
    mode: ModeChoice
    reporter: Reporter
    writer: JsonlWriter
    trail: AuditLog | None
    #: Where bad lines are journaled (None: nowhere, in a home `tk init` did not make).
    errors: AuditLog | None
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
                    if not self._lines(lines, tally, guard):
                        return ExitStatus.BAD_INPUT
            except BrokenPipeError:
                silence_stdout_after_broken_pipe()
                return ExitStatus.BROKEN_PIPE
        return ExitStatus.BAD_INPUT if tally.invalid else ExitStatus.OK

    def _lines(self, lines: list[InputLine], tally: StreamTally, guard: InterruptGuard) -> bool:
        """The lines of one read. False: stop (a bad line under --on-error fail).

        A stage that acts (tk-exec) acts on a line and journals it with interrupts held
        back, then writes it, line by line. A pure stage works through the lines and keeps
        what they give (bytes only, so each record is let go at once); that is journaled in
        one append and written in one write when the lines are done, before a bad line is
        reported, and also when an interrupt or an error stops the work half-way, so
        nothing that was worked out is lost."""
        stage = self.stage
        model, name, select, process = stage.model, stage.name, stage.select, stage.process
        redactor, as_written, reader = self.writer.redactor, self.writer.as_written, stage.reader
        done: list[tuple[str, int, bytes, bytes]] = []  # source, line, record, as written
        try:
            for line in lines:
                if reader is None:
                    result = parse_line(line, model, name, redactor, select)
                else:
                    result = reader(line)
                if result is None:
                    continue
                tally.read += 1
                if isinstance(result, Invalid):
                    self._deliver(done, tally, guard)  # stderr and stdout stay in order
                    if not self._bad_line(result, tally):
                        return False
                    continue
                if not stage.pure:
                    self._act(result, tally, guard)
                    continue
                out = process(result)
                if out is not None:
                    data = to_json_bytes(out)  # serialised once, for both
                    done.append((line.source, line.number, data, as_written(data, out)))
        finally:
            self._deliver(done, tally, guard)
        return True

    def _act(self, parsed: Parsed[Any], tally: StreamTally, guard: InterruptGuard) -> None:
        with guard.critical():  # act and journal: never interrupted in between
            out = self.stage.process(parsed)
            if out is None:
                return
            data = to_json_bytes(out)  # serialised once, for both
            self._journal([(parsed.line.source, parsed.line.number, data)], guard)
        self.writer.write_group([self.writer.as_written(data, out)])
        tally.written += 1

    def _deliver(
        self, done: list[tuple[str, int, bytes, bytes]], tally: StreamTally, guard: InterruptGuard
    ) -> None:
        """Journal, then write, what the lines so far gave; `done` is emptied first, so
        nothing goes out twice whatever fails here."""
        if not done:
            return
        records = done[:]
        done.clear()
        if self.stage.before_delivery is not None:
            self.stage.before_delivery()
        self._journal([(source, number, data) for source, number, data, _ in records], guard)
        self.writer.write_group([written for *_, written in records])
        tally.written += len(records)

    def _journal(self, records: list[tuple[str, int, bytes]], guard: InterruptGuard) -> None:
        if self.trail is not None:
            with guard.critical():
                self.trail.append_inputs(
                    self.clock.now(), self.stage.name, records, mode=self.mode.mode
                )

    def _bad_line(self, result: Invalid, tally: StreamTally) -> bool:
        """Report a bad line (and write its error record with --on-error emit). False: stop."""
        tally.invalid += 1
        error = result.error.to_json_dict()
        self.reporter.bad_line(result.error)
        if self.errors is not None:
            self.errors.append(self.clock.now(), self.stage.name, error, mode=self.mode.mode)
        if self.on_error is OnError.EMIT:  # in its place among the records
            self.writer.write_group([self.writer.as_written(to_json_bytes(error), error)])
        if self.on_error is OnError.FAIL:
            tally.stopped_at = result.line
            self.reporter.error(
                f"stopped at {result.line.where} (--on-error fail); lines after it were not read"
            )
            return False
        return True


def passthrough(parsed: Parsed[Any]) -> Extended:
    """Write the record exactly as it was read (every field, known or not)."""
    return Extended(parsed, {})
