"""tk tg poll's parser on a saved 20-post page: the time to read one page into posts.

    .venv/bin/python bench/poll.py [--runs R]

Parses tests/data/telegram/web-preview/page-1.html (20 posts: replies, photos, a forward)
R times after one warm-up and reports the median and the worst (target: median <= 20 ms).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "tests" / "data" / "telegram" / "web-preview" / "page-1.html"
TARGET_MS = 20.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    args = parser.parse_args()
    from tradekit.telegram.sources.webpreview import parse_page

    html = PAGE.read_text(encoding="utf-8")
    assert len(parse_page(html, "SignalDesk").posts) == 20  # the warm-up, and a check
    times = []
    for _ in range(args.runs):
        started = time.perf_counter()
        parse_page(html, "SignalDesk")
        times.append((time.perf_counter() - started) * 1000)
    median = statistics.median(times)
    print(
        f"tk tg poll: a 20-post page parsed in {median:.2f} ms (median of {args.runs}; "
        f"worst {max(times):.2f} ms; target {TARGET_MS:g} ms)"
    )
    return 0 if median <= TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
