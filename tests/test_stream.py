"""The shared reader: sources, line numbers, blank lines, error records."""

from __future__ import annotations

import io
import os
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path

import orjson
import pytest
from conftest import SEED_PLAN

from tradekit import jsonio
from tradekit.errors import UsageError
from tradekit.records import TradePlan
from tradekit.redact import Redactor
from tradekit.stream import (
    INPUT_EXCERPT,
    Extended,
    InputLine,
    Inputs,
    Invalid,
    JsonlWriter,
    Parsed,
    parse_line,
)


def parse_all(lines: Iterable[InputLine]) -> list[Parsed[TradePlan] | Invalid]:
    results = [parse_line(line, TradePlan, "risk") for line in lines]
    return [result for result in results if result is not None]


def test_reads_files_and_stdin_in_order_numbering_lines_per_source(tmp_path: Path) -> None:
    first = tmp_path / "a.jsonl"
    first.write_text(f"{SEED_PLAN}\n\n   \n{SEED_PLAN}\n")
    stdin = io.BytesIO(f"\n{SEED_PLAN}\n".encode())
    with Inputs([str(first), "-"], stdin) as inputs:
        where = [line.where for line in inputs.lines()]
    assert where == [f"{first}:1", f"{first}:4", "<stdin>:2"]


def test_a_byte_order_mark_at_the_start_is_ignored() -> None:
    with Inputs([], io.BytesIO(b"\xef\xbb\xbf" + SEED_PLAN.encode())) as inputs:
        [result] = parse_all(inputs.lines())
    assert isinstance(result, Parsed)


def test_no_file_arguments_means_stdin() -> None:
    with Inputs([], io.BytesIO(b"x\n")) as inputs:
        assert [line.source for line in inputs.lines()] == ["<stdin>"]


def test_a_missing_file_is_a_usage_error_before_anything_is_read(tmp_path: Path) -> None:
    good = tmp_path / "good.jsonl"
    good.write_text(SEED_PLAN + "\n")
    with pytest.raises(UsageError, match=r"missing\.jsonl"):
        Inputs([str(good), str(tmp_path / "missing.jsonl")], io.BytesIO())


def test_bad_lines_become_error_records_and_the_stream_goes_on() -> None:
    text = "\n".join([SEED_PLAN, "{broken", '{"tradePlanVersion":1}', "[]", SEED_PLAN])
    with Inputs([], io.BytesIO(text.encode())) as inputs:
        results = list(parse_all(inputs.lines()))
    assert [type(r).__name__ for r in results] == [
        "Parsed",
        "Invalid",
        "Invalid",
        "Invalid",
        "Parsed",
    ]
    broken, missing, array = (r.error for r in results[1:4] if isinstance(r, Invalid))
    assert (broken.line, broken.field) == (2, None)
    assert broken.error.startswith("invalid JSON")
    assert (missing.line, missing.field) == (3, "cycleId")
    assert missing.error == "cycleId: required field is missing"
    assert array.error == "a record must be a JSON object, not list"


def test_nested_list_positions_are_named() -> None:
    line = b'{"tradePlanVersion":1,"cycleId":"c","plan":{"takeProfits":[1,2,"x"]}}'
    with Inputs([], io.BytesIO(line)) as inputs:
        [result] = parse_all(inputs.lines())
    assert isinstance(result, Invalid)
    assert result.error.field == "plan.takeProfits[2]"


def test_the_offending_text_is_cut_short() -> None:
    line = b"x" * 5000
    with Inputs([], io.BytesIO(line)) as inputs:
        [result] = parse_all(inputs.lines())
    assert isinstance(result, Invalid)
    assert len(result.error.input) == INPUT_EXCERPT
    assert result.error.input.endswith("…")


def test_parsed_keeps_the_raw_object_for_pass_through() -> None:
    line = SEED_PLAN[:-1] + ',"mine":{"k":[1,2.50]}}'
    with Inputs([], io.BytesIO(line.encode())) as inputs:
        [result] = parse_all(inputs.lines())
    assert isinstance(result, Parsed)
    assert result.raw["mine"] == {"k": [1, 2.5]}  # a fraction read fast: exactly 2.50
    out = io.BytesIO()
    JsonlWriter(out, Redactor()).write(Extended(result, {}))
    assert out.getvalue() == line.encode() + b"\n"  # written as read, 2.50 included


def test_writer_flushes_every_line() -> None:
    class Recorder(io.BytesIO):
        flushes = 0

        def flush(self) -> None:
            self.flushes += 1

    out = Recorder()
    writer = JsonlWriter(out, Redactor())
    writer.write({"a": 1})
    writer.write({"a": 2})
    assert out.flushes == 2 and out.getvalue() == b'{"a":1}\n{"a":2}\n'


def _parsed(text: bytes) -> Parsed[TradePlan]:
    [parsed] = parse_all([InputLine("t", 1, text)])
    assert isinstance(parsed, Parsed)
    return parsed


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            b'{"tradePlanVersion":1,"cycleId":"c"}',
            b'{"tradePlanVersion":1,"cycleId":"c","risk":{"approved":true}}',
        ),
        # the line's own bytes stay as they were, spacing and number spelling included
        (
            b'{"tradePlanVersion": 1, "cycleId": "c", "x": 1E+2 }  ',
            b'{"tradePlanVersion": 1, "cycleId": "c", "x": 1E+2,"risk":{"approved":true}}',
        ),
        (
            b'{"tradePlanVersion":1,"cycleId":"c"\t}',
            b'{"tradePlanVersion":1,"cycleId":"c","risk":{"approved":true}}',
        ),
        # a block already there is replaced in place, not repeated
        (
            b'{"tradePlanVersion":1,"risk":{"approved":false},"cycleId":"c"}',
            b'{"tradePlanVersion":1,"risk":{"approved":true},"cycleId":"c"}',
        ),
    ],
)
def test_extended_appends_blocks_to_the_line_as_read(line: bytes, expected: bytes) -> None:
    out = Extended(_parsed(line), {"risk": {"approved": True}})
    assert out.json_bytes() == expected
    assert jsonio.loads(out.json_bytes()) == out.as_dict()


def test_extended_without_blocks_is_the_line_itself() -> None:
    line = b'{"tradePlanVersion":1,"cycleId":"c","p":0.10000000000000000001}'
    assert Extended(_parsed(line), {}).json_bytes() == line


@pytest.mark.parametrize(
    ("text", "fast"),
    [
        (b'{"p":66336.1,"q":0.0153,"t":1771524000000}', True),
        (b'{"p":0.1000000000000000055511151231257827}', False),  # 17+ digits
        (b'{"p":1234567.123456789}', False),  # 16 digits around the point
        (b'{"p":1e5}', False),  # an exponent
        (b'{"big":123456789012345678901234567890}', False),  # past 64 bits
    ],
)
def test_fast_loading_is_used_only_where_it_is_exact(text: bytes, fast: bool) -> None:
    value, approximate = jsonio.loads_fast(text)
    assert approximate is fast
    exact = jsonio.loads(text)
    assert {k: Decimal(repr(v)) if isinstance(v, float) else v for k, v in value.items()} == exact


class _Trickle(io.RawIOBase):
    """A pipe that returns the given pieces one read at a time."""

    def __init__(self, pieces: list[bytes]):
        self._pieces = list(pieces)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        if not self._pieces:
            return 0
        piece = self._pieces.pop(0)
        buffer[: len(piece)] = piece
        return len(piece)


def test_lines_are_grouped_as_they_arrive_and_numbered_across_reads() -> None:
    pieces = [b"\xef\xbb\xbfa\nb", b"c\n\n", b"d\ne", b"f", b"\n", b"g"]
    with Inputs([], io.BufferedReader(_Trickle(pieces))) as inputs:
        groups = [[(line.number, line.text) for line in group] for group in inputs.batches()]
    assert groups == [[(1, b"a")], [(2, b"bc")], [(4, b"d")], [(5, b"ef")], [(6, b"g")]]


def test_a_long_file_is_read_in_blocks_with_every_line_kept(tmp_path: Path) -> None:
    path = tmp_path / "many.jsonl"
    path.write_bytes(b"".join(b'{"n":%d}\n' % i for i in range(20_000)))
    with Inputs([str(path)], io.BytesIO()) as inputs:
        groups = list(inputs.batches())
    assert 1 < len(groups) < 20_000
    lines = [line for group in groups for line in group]
    assert [line.number for line in lines] == list(range(1, 20_001))
    assert lines[-1].text == b'{"n":19999}'


def test_a_file_name_that_is_not_utf8_is_shown_with_a_replacement_character(
    tmp_path: Path,
) -> None:
    path = Path(os.fsdecode(bytes(tmp_path) + b"/plans-\xe9.jsonl"))
    path.write_text(SEED_PLAN + "\n")
    with Inputs([str(path)], io.BytesIO()) as inputs:
        [line] = inputs.lines()
    assert line.source == f"{tmp_path}/plans-\ufffd.jsonl"
    assert orjson.dumps(line.where)  # can be journaled
