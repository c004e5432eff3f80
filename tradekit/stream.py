"""JSON-lines streaming shared by every command.

Reading: stdin or file arguments (`-` is stdin), lines numbered from 1 per source, blank
lines skipped, each line parsed and validated on its own. A bad line never raises: it
becomes an `ErrorRecord` naming the source, the line and the field, and the `--on-error`
policy decides what happens next. Writing: one JSON line per record, flushed at once.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import IO, Any, BinaryIO, Generic, NamedTuple, TypeVar

import orjson
from pydantic import ValidationError

from tradekit import jsonio
from tradekit.errors import UsageError
from tradekit.records import ErrorRecord, FieldProblem, Record
from tradekit.redact import Redactor

R = TypeVar("R", bound=Record)

STDIN_NAME = "<stdin>"
UTF8_BOM = b"\xef\xbb\xbf"
#: How much input one read asks for: the most lines a stage works through at once.
READ_SIZE = 64 * 1024
#: How much of an offending line an error record quotes.
INPUT_EXCERPT = 200


class OnError(StrEnum):
    """What a stage does with a line it cannot read."""

    #: Report it and stop; lines after it are not read.
    FAIL = "fail"
    #: Report it on stderr and go on with the next line.
    SKIP = "skip"
    #: Report it, write an error record on stdout in its place, and go on.
    EMIT = "emit"


# The per-line carriers below are NamedTuples or slotted classes: a frozen dataclass
# costs a Python-level setattr per field, per line, on every stage's hot path.


class InputLine(NamedTuple):
    source: str
    number: int
    text: bytes

    @property
    def where(self) -> str:
        return f"{self.source}:{self.number}"


@dataclass(slots=True)
class Parsed(Generic[R]):
    line: InputLine
    #: the line's JSON object (or the part `select` picked) when it was loaded; a record
    #: validated straight from the line's bytes loads it only if `raw` is asked for
    loaded: dict[str, Any] | None
    record: R
    #: fractions in `raw` are floats (each reads back as exactly the decimal in the line,
    #: see jsonio.fits_doubles); the line's own bytes are the exact text
    approximate: bool = False
    #: raw is a part of the line's object (picked by a selector), not all of it
    selected: bool = False

    @property
    def raw(self) -> dict[str, Any]:
        if self.loaded is None:
            self.loaded = orjson.loads(self.line.text)
        return self.loaded  # type: ignore[return-value]


class Extended(NamedTuple):
    """A record written as it was read plus some top-level blocks (tk-risk adds `risk`).

    The line's own bytes are reused, with the blocks appended before its closing brace, so
    every field passes through byte for byte and only the new blocks are serialised (unless
    validation respelled a value: a symbol is written as its Bitget id)."""

    parsed: Parsed[Any]
    blocks: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        parsed = self.parsed
        raw = jsonio.loads(parsed.line.text) if parsed.approximate else parsed.raw
        return {**parsed.record.respell(raw), **self.blocks}

    def json_bytes(self, pretty: bool = False) -> bytes:
        parsed, blocks = self.parsed, self.blocks
        body = parsed.line.text  # stripped, without a byte order mark (Inputs.lines)
        if not body.endswith(b"}"):
            body = body.rstrip()
        # a value validation respelled (plan.symbol btcusdt is BTCUSDT) is written anew
        if pretty or parsed.selected or not body.endswith(b"}") or parsed.record.respelled():
            return jsonio.dumps(self.as_dict(), pretty=pretty)
        if not blocks:
            return body
        for key in blocks:
            # a block the line has already is replaced, not appended (this test may also
            # match the name elsewhere in the line: then the slow way is taken, still right)
            if body.find(_quoted(key)) >= 0:  # as jsonio.fits_doubles: find() is cheaper
                return jsonio.dumps(self.as_dict())
        head = body[:-1].rstrip()
        comma = b"" if head.endswith(b"{") else b","
        return head + comma + jsonio.dumps(blocks)[1:-1] + b"}"


@functools.cache
def _quoted(key: str) -> bytes:
    return orjson.dumps(key)


def to_json_bytes(record: dict[str, Any] | Extended, pretty: bool = False) -> bytes:
    if isinstance(record, Extended):
        return record.json_bytes(pretty)
    return jsonio.dumps(record, pretty=pretty)


@dataclass(frozen=True)
class Invalid:
    line: InputLine
    error: ErrorRecord


class Inputs:
    """The input files of a command, opened up front so a missing file is a usage error
    before anything is read or done."""

    def __init__(self, names: Sequence[str], stdin: BinaryIO):
        self._stack = ExitStack()
        self.sources: list[tuple[str, IO[bytes]]] = []
        for name in names or ["-"]:
            if name == "-":
                self.sources.append((STDIN_NAME, stdin))
                continue
            try:
                handle = self._stack.enter_context(Path(name).open("rb"))  # noqa: SIM115
            except OSError as exc:
                self._stack.close()
                raise UsageError(f"cannot read {name}: {exc.strerror}") from None
            # the name as it is shown and journaled: a byte that is not UTF-8 becomes U+FFFD
            shown = name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            self.sources.append((shown, handle))

    def lines(self) -> Iterator[InputLine]:
        for batch in self.batches():
            yield from batch

    def batches(self) -> Iterator[list[InputLine]]:
        """The lines in the groups they arrive in: what one read returned, whole lines
        only. A file goes through in blocks of READ_SIZE; a pipe fed a line at a time
        gives one-line groups, so a stage that answers per group still answers at once."""
        for name, handle in self.sources:
            read = getattr(handle, "read1", handle.read)  # read1: what is there, or wait
            number = 0
            partial: list[bytes] = []  # a line that has not ended yet
            while chunk := read(READ_SIZE):
                if b"\n" not in chunk:
                    partial.append(chunk)
                    continue
                texts = chunk.split(b"\n")
                if partial:
                    texts[0] = b"".join([*partial, texts[0]])
                rest = texts.pop()
                partial = [rest] if rest else []
                batch, number = _input_lines(name, number, texts)
                if batch:
                    yield batch
            if partial:  # the last line, without a newline
                batch, number = _input_lines(name, number, [b"".join(partial)])
                if batch:
                    yield batch

    def close(self) -> None:
        self._stack.close()

    def __enter__(self) -> Inputs:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _input_lines(source: str, last: int, texts: list[bytes]) -> tuple[list[InputLine], int]:
    """Numbered, stripped, non-blank lines after line `last` of a source; and the new last."""
    if last == 0 and texts:
        texts[0] = texts[0].removeprefix(UTF8_BOM)  # as the editor wrote it
    lines = []
    for number, text in enumerate(texts, start=last + 1):
        stripped = text.strip()
        if stripped:
            lines.append(InputLine(source, number, stripped))
    return lines, last + len(texts)


def _excerpt(text: bytes) -> str:
    decoded = text.decode("utf-8", errors="replace")
    if len(decoded) <= INPUT_EXCERPT:
        return decoded
    return decoded[: INPUT_EXCERPT - 1] + "…"


def _dotted(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def _problems(exc: ValidationError) -> list[FieldProblem]:
    problems = []
    for err in exc.errors(include_url=False):
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = "unknown field"
        elif err["type"] == "missing":
            message = "required field is missing"
        problems.append(FieldProblem(field=_dotted(err["loc"]) or None, error=message))
    return problems


#: Picks the record out of a line's JSON object; None means the line is not for us.
Selector = Callable[[dict[str, Any]], dict[str, Any] | None]


def parse_line(
    line: InputLine,
    model: type[R],
    stage: str,
    redactor: Redactor | None = None,
    select: Selector | None = None,
) -> Parsed[R] | Invalid | None:
    """Parse and validate one line. Never raises for bad input.

    The excerpt of a bad line is redacted *before* it is cut short or escaped again, so
    no secret (whole or in part) can reach an error record.
    """

    if select is None and jsonio.fits_doubles(line.text) and not jsonio.has_constants(line.text):
        try:  # pydantic's own JSON reader: no Python dict in between
            record = model.__pydantic_validator__.validate_json(line.text)
        except ValidationError:
            pass  # the exact reader below says what is wrong, as it always has
        else:
            return Parsed(line, None, record, True)
    return _parse_exactly(line, model, stage, redactor, select)


def _parse_exactly(
    line: InputLine,
    model: type[R],
    stage: str,
    redactor: Redactor | None,
    select: Selector | None,
) -> Parsed[R] | Invalid | None:
    def invalid(error: str, problems: list[FieldProblem] | None = None) -> Invalid:
        return invalid_line(line, stage, error, redactor, problems)

    try:
        if select is None:
            raw, approximate = jsonio.loads_fast(line.text)
        else:
            raw, approximate = jsonio.loads(line.text), False
    except jsonio.JsonError as exc:
        return invalid(str(exc))
    if not isinstance(raw, dict):
        return invalid(f"a record must be a JSON object, not {type(raw).__name__}")
    try:  # what cannot be written back (a lone surrogate, nesting past the writer's limit)
        jsonio.dumps(raw)  # is refused here, not when the stage has acted on it
    except jsonio.JsonError as exc:
        return invalid(f"cannot be passed on as JSON: {exc}")
    if select is not None:
        selected = select(raw)
        if selected is None:
            return None
        raw = selected
    try:
        record = model.model_validate(raw)
    except ValidationError as exc:
        problems = _problems(exc)
        head = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        return invalid(f"{head.field or 'record'}: {head.error}{more}", problems)
    return Parsed(line, raw, record, approximate=approximate, selected=select is not None)


def invalid_line(
    line: InputLine,
    stage: str,
    error: str,
    redactor: Redactor | None = None,
    problems: list[FieldProblem] | None = None,
) -> Invalid:
    """A bad line's error record: the first problem's field, the offending text cut short
    (redacted before it is cut, so no part of a secret shows)."""
    first = problems[0].field if problems else None
    return Invalid(
        line,
        ErrorRecord(
            stage=stage,
            source=line.source,
            line=line.number,
            field=first,
            error=error,
            problems=problems or [],
            input=_excerpt(redactor.bytes(line.text) if redactor else line.text),
        ),
    )


class JsonlWriter:
    """Writes one JSON line per record and flushes it, so `tail -F | tk-…` streams.
    A batch (a replay) uses `write_many`, which writes in blocks."""

    def __init__(self, stream: BinaryIO, redactor: Redactor, *, pretty: bool = False):
        self._stream = stream
        self.redactor = redactor
        self._pretty = pretty
        self.count = 0

    def write_many(self, records: Iterable[dict[str, Any] | Extended], chunk: int = 2000) -> None:
        """A batch (a replay): serialize, redact and write `chunk` lines at a time."""
        batch: list[bytes] = []
        for record in records:
            batch.append(to_json_bytes(record, self._pretty))
            if len(batch) >= chunk:
                self.write_group(batch)
                batch = []
        self.write_group(batch)

    def as_written(self, compact: bytes, record: dict[str, Any] | Extended) -> bytes:
        """What this writer writes for a record already serialised (compactly) as
        `compact`: that, or the record again, pretty (--pretty)."""
        return to_json_bytes(record, pretty=True) if self._pretty else compact

    def write_group(self, lines: list[bytes]) -> None:
        """Several records, each as `as_written` gave it, in one write and one flush."""
        if not lines:
            return
        self._stream.write(self.redactor.bytes(b"\n".join(lines)) + b"\n")
        self._stream.flush()
        self.count += len(lines)

    def write(self, record: dict[str, Any] | Extended) -> None:
        data = self.redactor.bytes(to_json_bytes(record, self._pretty))
        self._stream.write(data + b"\n")
        self._stream.flush()
        self.count += 1


def silence_stdout_after_broken_pipe() -> None:
    """After EPIPE, point stdout at /dev/null so the interpreter's final flush is quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass
