"""One bad line never stops a stage: every record stage, --on-error skip, a stream of good
lines and lines that used to crash a stage or slip through (deep nesting, NaN outside the
typed fields, lone surrogates, strings for booleans and integers). Every bad line is named
by its number, every good line comes out, the exit status is 65, and what comes out is
strict JSON (a parser that refuses NaN reads every line).

The good and the bad lines are built here, each knowing what it is, so the expectation does
not come from the code under test."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import script
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

#: record stages that read TradePlan v1 and write one line per line
PLAN_STAGES = ["tk-news-gate", "tk-risk", "tk-exec"]


def plan_line(n: int, extra: str = "") -> str:
    return f'{{"tradePlanVersion":1,"cycleId":"good-{n}","dryRun":false,"plan":null{extra}}}'


def message_line(n: int, extra: str = "") -> str:
    return (
        f'{{"record":"telegram_message","channel":"desk","messageId":{n},'
        f'"date":"2026-11-20T10:00:00Z","text":"hello {n}"{extra}}}'
    )


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


#: what used to stop a stage (exit 1 or 2) or pass through as something that is not JSON
BAD_EXTRAS = [
    ',"context":{"x":NaN}',
    ',"note":Infinity',
    ',"deep":' + nested(300),  # past the writer's limit
    ',"deep":' + nested(2000),  # past the reader's
    ',"s":"\\ud800"',  # a lone surrogate: not text
    ',"risk":{"approved":true,"reasons":[],"x":NaN}',
    ',"risk":{"approved":true,"reasons":[],"s":"\\udfff"}',
    ',"risk":{"approved":true,"reasons":[],"deep":' + nested(300) + "}",
]
BAD_WHOLE = [
    "not json",
    "[1, 2]",
    '"a string"',
    '{"tradePlanVersion":1,"cycleId":"s","dryRun":"no","plan":null}',
    '{"tradePlanVersion":"1","cycleId":"s","dryRun":false,"plan":null}',
    '{"tradePlanVersion":1,"cycleId":"s","dryRun":false,"plan":{"leverage":"5"}}',
    '{"tradePlanVersion":1,"cycleId":"s","dryRun":false,"plan":null,'
    '"risk":{"approved":"yes","reasons":[]}}',
    "{" * 5000,
]


def strict_json(line: str) -> Any:
    def refuse(constant: str) -> Any:
        raise AssertionError(f"{constant} written: not JSON")

    return json.loads(line, parse_constant=refuse)


def run(command: str, lines: list[str], home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [script(command), "--on-error", "skip", "--home", str(home)],
        input="\n".join(lines) + "\n", capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip


def named_lines(stderr: str, command: str) -> list[int]:
    assert "Traceback" not in stderr, stderr
    return [int(n) for n in re.findall(rf"^{command}: error: <stdin>:(\d+): ", stderr, re.M)]


@pytest.fixture
def initialised(home: Path) -> Path:
    subprocess.run([script("tk"), "init"], check=True, capture_output=True)
    return home


def corpus(make: Any) -> tuple[list[str], list[int], list[int]]:
    """Good and bad lines interleaved: (lines, numbers of the good ones, of the bad ones)."""
    lines, good, bad = [], [], []
    bad_lines = [make(900 + i, extra) for i, extra in enumerate(BAD_EXTRAS)]
    if make is plan_line:
        bad_lines += BAD_WHOLE
    for i, line in enumerate(bad_lines):
        lines.append(make(i))
        good.append(len(lines))
        lines.append(line)
        bad.append(len(lines))
    lines.append(make(len(bad_lines)))
    good.append(len(lines))
    return lines, good, bad


@pytest.mark.parametrize("command", PLAN_STAGES)
def test_the_corpus_through_a_plan_stage(command: str, initialised: Path) -> None:
    lines, good, bad = corpus(plan_line)
    result = run(command, lines, initialised)
    assert result.returncode == 65, result.stderr
    assert named_lines(result.stderr, command) == bad
    out = [strict_json(line) for line in result.stdout.splitlines()]
    assert [record["cycleId"] for record in out] == [f"good-{n}" for n in range(len(good))]
    # the audit is strict JSON too, and holds each good line's record
    decisions = (initialised / "logs" / "decisions.jsonl").read_text().splitlines()
    assert len([strict_json(line) for line in decisions]) == len(good)
    errors = (initialised / "logs" / "errors.jsonl").read_text().splitlines()
    assert [strict_json(line)["record"]["line"] for line in errors] == bad


def test_the_corpus_through_tk_parse_tg(initialised: Path) -> None:
    lines, good, bad = corpus(message_line)
    lines += ['{"record":"news_item","title":"not a post"}', ""]  # not a telegram_message
    bad.append(len(lines) - 1)
    result = run("tk-parse-tg", lines, initialised)
    assert result.returncode == 65, result.stderr
    assert named_lines(result.stderr, "tk-parse-tg") == bad
    assert len([strict_json(line) for line in result.stdout.splitlines()]) == len(good)


def test_the_corpus_through_tk_report(initialised: Path) -> None:
    lines, good, bad = corpus(plan_line)
    result = run("tk-report", lines, initialised)
    assert result.returncode == 65, result.stderr
    assert named_lines(result.stderr, "tk-report") == bad
    assert result.stdout.startswith(f"records          {len(good)}\n")


# -- generated: arbitrary JSON in a record's own fields ---------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
kinds = st.sampled_from(["good", "not json", "nan", "deep", "surrogate", "string bool"])


def generated_line(n: int, kind: str, value: Any) -> str:
    extra = "," + json.dumps({"mine": value})[1:-1]
    if kind == "good":
        return plan_line(n, extra)
    return {
        "not json": plan_line(n, extra)[:-1],
        "nan": plan_line(n, extra + ',"x":[NaN]'),
        "deep": plan_line(n, ',"x":' + nested(260)),
        "surrogate": plan_line(n, ',"x":"\\ud83d"'),
        "string bool": plan_line(n, extra).replace('"dryRun":false', '"dryRun":"false"'),
    }[kind]


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.tuples(kinds, json_values), min_size=1, max_size=25))
def test_generated_lines_through_tk_risk(initialised: Path, items: list[tuple[str, Any]]) -> None:
    lines = [generated_line(n, kind, value) for n, (kind, value) in enumerate(items)]
    good = [n for n, (kind, _) in enumerate(items) if kind == "good"]
    bad = [n + 1 for n, (kind, _) in enumerate(items) if kind != "good"]
    result = run("tk-risk", lines, initialised)
    assert result.returncode == (65 if bad else 0), result.stderr
    assert named_lines(result.stderr, "tk-risk") == bad
    out = [strict_json(line) for line in result.stdout.splitlines()]
    assert [record["cycleId"] for record in out] == [f"good-{n}" for n in good]
    for record, n in zip(out, good, strict=True):  # the user's own field, value for value
        assert record["mine"] == json.loads(json.dumps(items[n][1]))
