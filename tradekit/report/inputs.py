"""Reading what the page shows: audit logs, pipes of records and backtest run folders.

Every line keeps where it came from (file and line number), so the page can point back at
the audit. A line that is not what we expect is a problem named by file and line; the
other lines are still read.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from tradekit.audit import is_entry

#: the order in which a record gains its blocks; a later stage's record holds the earlier ones
STAGES = ("signal", "parse-tg", "news-gate", "risk", "exec")
#: what a backtest run folder holds (TK_HOME/backtests/<id>/), each optional
BACKTEST_FILES = ("decisions.jsonl", "guard.jsonl", "trades.jsonl", "equity.jsonl")


@dataclass(frozen=True)
class Where:
    """A line of the input: `file:line`, and the stage that wrote it (audit logs)."""

    file: str
    line: int
    stage: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "stage": self.stage}


@dataclass
class Chain:
    """Every line about one cycleId: the most complete record and where each line is."""

    cycle_id: str
    record: dict[str, Any]
    ts: str | None
    where: list[Where] = field(default_factory=list)
    rank: int = -1

    def take(self, record: dict[str, Any], where: Where, ts: str | None) -> None:
        self.where.append(where)
        rank = STAGES.index(where.stage) if where.stage in STAGES else len(STAGES)
        duplicate = (record.get("execution") or {}).get("status") == "duplicate"
        # the later stage's record carries the earlier blocks; a rerun that found the plan
        # already handled (a duplicate) does not hide the run that handled it
        if rank > self.rank or (rank == self.rank and not duplicate):
            self.record, self.rank = record, rank
            self.ts = ts or self.ts


@dataclass
class Loaded:
    chains: dict[str, Chain] = field(default_factory=dict)
    guard_events: list[tuple[dict[str, Any], Where]] = field(default_factory=list)
    trades: list[dict[str, Any]] = field(default_factory=list)  # a backtest's trades.jsonl
    equity: list[dict[str, Any]] = field(default_factory=list)  # a backtest's equity curve
    summary: dict[str, Any] | None = None  # a backtest's summary.json
    problems: list[str] = field(default_factory=list)
    lines: int = 0

    def add(self, obj: dict[str, Any], where: Where) -> None:
        if obj.get("record") == "guard_event":
            self.guard_events.append((obj, where))
            return
        ts = None
        if is_entry(obj):
            where = Where(where.file, where.line, str(obj["stage"]))
            ts, obj = obj.get("ts"), obj["record"]
            if obj.get("record") == "guard_event":
                self.guard_events.append((obj, where))
                return
        if obj.get("tradePlanVersion") != 1 or not isinstance(obj.get("cycleId"), str):
            if obj.get("record") != "error" and "clientOid" not in obj:  # errors/orders: ignored
                self.problems.append(f"{where.file}:{where.line}: not a TradePlan v1 record")
            return
        chain = self.chains.get(obj["cycleId"])
        if chain is None:
            chain = self.chains[obj["cycleId"]] = Chain(obj["cycleId"], obj, ts)
        chain.take(obj, where, ts)


def load(paths: Iterable[str], stdin: Any = None) -> Loaded:
    loaded = Loaded()
    for name in paths or ["-"]:
        path = Path(name)
        if name != "-" and path.is_dir():
            _load_backtest(path, loaded)
        elif name == "-":
            _load_lines("<stdin>", (stdin or sys.stdin.buffer), loaded)
        elif not path.exists():
            loaded.problems.append(f"{name}: no such file")
        else:
            with path.open("rb") as lines:
                _load_lines(name, lines, loaded)
    return loaded


def _objects(name: str, lines: Iterable[bytes], loaded: Loaded) -> Iterator[tuple[Any, Where]]:
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        loaded.lines += 1
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            loaded.problems.append(f"{name}:{number}: invalid JSON: {exc}")
            continue
        if not isinstance(obj, dict):
            loaded.problems.append(f"{name}:{number}: not a JSON object")
            continue
        yield obj, Where(name, number)


def _load_lines(name: str, lines: Iterable[bytes], loaded: Loaded) -> None:
    for obj, where in _objects(name, lines, loaded):
        loaded.add(obj, where)


def _load_backtest(folder: Path, loaded: Loaded) -> None:
    """A backtest run folder: its decisions and guard events as an audit, its trades, its
    equity curve and summary.json as the backtest wrote them."""
    found = [name for name in BACKTEST_FILES if (folder / name).exists()]
    if not found:
        loaded.problems.append(
            f"{folder}: not a backtest run folder (no {', '.join(BACKTEST_FILES)})"
        )
        return
    for name in ("decisions.jsonl", "guard.jsonl"):
        if name in found:
            with (folder / name).open("rb") as lines:
                _load_lines(str(folder / name), lines, loaded)
    for name, into in (("trades.jsonl", loaded.trades), ("equity.jsonl", loaded.equity)):
        if name in found:
            with (folder / name).open("rb") as lines:
                into.extend(obj for obj, _ in _objects(str(folder / name), lines, loaded))
    summary = folder / "summary.json"
    if summary.exists():
        try:
            loaded.summary = orjson.loads(summary.read_bytes())
        except orjson.JSONDecodeError as exc:
            loaded.problems.append(f"{summary}: invalid JSON: {exc}")
