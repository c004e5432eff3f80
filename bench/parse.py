"""Score the Telegram rules parser on a labelled file in the dev-set format.

    .venv/bin/python bench/parse.py FILE.jsonl [--json]

Each line: {"id", "family", "text", "has_image", "expected": {...}} (see
tests/data/telegram/README.md). A post passes when every compared key matches (numbers as
decimals, targets in order, missing fields as a set). Prints the score overall, per family
and per expected kind, then every miss with the expected and the parsed record.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

from tradekit.telegram import parse_post
from tradekit.telegram.scoring import labelled, mismatches


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value) if value != value.to_integral_value() else int(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def score(path: Path) -> dict[str, Any]:
    total: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    misses = []
    for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        case = json.loads(line)
        expected = case["expected"]
        got = labelled(parse_post(case["text"], has_image=bool(case.get("has_image"))))
        wrong = mismatches(expected, got)
        for key in ("all", f"family {case.get('family', '?')}", f"kind {expected['kind']}"):
            total[key][0] += not wrong
            total[key][1] += 1
        if wrong:
            misses.append(
                {
                    "id": case.get("id", f"line {number}"),
                    "keys": wrong,
                    "expected": expected,
                    "got": {k: _plain(v) for k, v in got.items()},
                }
            )
    return {"scores": dict(total), "misses": misses}


def _order(item: tuple[str, Any]) -> tuple[int, str]:
    key = item[0]
    return (0 if key == "all" else 1 if key.startswith("family") else 2, key)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--json", action="store_true", help="one JSON object instead of text")
    args = parser.parse_args()
    result = score(args.file)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
        return 0
    for key, (passed, count) in sorted(result["scores"].items(), key=_order):
        print(f"{key:<34} {passed:>4}/{count:<4} {100 * passed / count:6.1f} %")
    for miss in result["misses"]:
        print(f"\nMISS {miss['id']}: {', '.join(miss['keys'])}")
        print("  expected:", json.dumps(miss["expected"], ensure_ascii=False))
        print("  parsed:  ", json.dumps(miss["got"], ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
