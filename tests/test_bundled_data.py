"""The data the tests and benchmarks read is in the repo, and tests/data/README.md is true
about it (every file listed with its rows, size and checksum)."""

from __future__ import annotations

import hashlib
import json
import runpy
from pathlib import Path

from conftest import ROOT, TEST_DATA


def listed() -> dict[str, tuple[int, int, str]]:
    """README table rows: file -> (rows, bytes, sha256)."""
    table = {}
    for line in (TEST_DATA / "README.md").read_text().splitlines():
        cells = [cell.strip().strip("`") for cell in line.strip("|").split("|")]
        if len(cells) == 6 and cells[0] != "file" and not cells[0].startswith("-"):
            table[cells[0]] = (int(cells[2]), int(cells[3]), cells[4])
    return table


def rows(path: Path) -> int:
    if path.suffix == ".json":
        return sum(len(entries) for entries in json.loads(path.read_text())["methods"].values())
    if path.suffix == ".html":  # a saved channel page: its posts
        return path.read_text(encoding="utf-8").count("data-post=")
    if path.suffix == ".jsonl":
        return len(path.read_bytes().splitlines())
    with path.open("rb") as lines:
        return sum(1 for _ in lines) - 1  # the header


def test_every_data_file_is_listed_with_its_rows_size_and_checksum() -> None:
    table = listed()
    on_disk = {
        str(path.relative_to(TEST_DATA))
        for path in TEST_DATA.rglob("*")
        if path.is_file() and path.name != "README.md"
    }
    assert set(table) == on_disk
    for name, (count, size, sha256) in table.items():
        path = TEST_DATA / name
        assert (rows(path), path.stat().st_size) == (count, size), name
        assert hashlib.sha256(path.read_bytes()).hexdigest() == sha256, name


def test_the_replay_benchmark_reads_data_in_the_repo() -> None:
    default = runpy.run_path(str(ROOT / "bench" / "replay.py"))["DEFAULT_CSV"]
    assert default.is_relative_to(ROOT) and str(default.relative_to(TEST_DATA)) in listed()
