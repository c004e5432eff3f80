"""The economic calendar: scheduled events (FOMC, CPI, NFP, ...) from a CSV file with
their times in UTC, and the window around each in which new entries are blocked.

    time_utc,event,importance,country
    2026-03-18T18:00:00Z,FOMC rate decision,high,US
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from tradekit.news.settings import CalendarSettings

IMPORTANCE = ("high", "medium", "low")


@dataclass(frozen=True)
class Event:
    at_ms: int
    name: str
    importance: str
    country: str = ""


@dataclass
class Calendar:
    events: list[Event]
    problems: list[str]


def read_calendar(path: Path) -> Calendar:
    """Every readable event of the file; each line that is not one is a problem naming the
    file and the line, and the others are still used. A missing file is one problem."""
    try:
        text = path.read_text(encoding="utf-8-sig")  # a byte order mark is not data
    except (OSError, UnicodeDecodeError) as exc:
        return Calendar([], [f"{path}: cannot read the calendar: {exc}"])
    events, problems = [], []
    rows = csv.reader(text.splitlines())
    for n, row in enumerate(rows, 1):
        if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
            continue
        if n == 1 and row[0].strip().lower() == "time_utc":
            continue
        where = f"{path.name}:{n}"
        if len(row) < 3:
            problems.append(f"{where}: expected time_utc,event,importance[,country]; skipped")
            continue
        when, name, importance = row[0].strip(), row[1].strip(), row[2].strip().lower()
        try:
            moment = datetime.fromisoformat(when.replace("Z", "+00:00"))
        except ValueError:
            problems.append(f"{where}: time_utc {when!r} is not an ISO 8601 time; skipped")
            continue
        if len(when) <= len("2026-01-01"):
            problems.append(f"{where}: time_utc {when!r} has no time of day; skipped")
            continue
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)  # the column is UTC by definition
        if importance not in IMPORTANCE:
            problems.append(f"{where}: importance {importance!r} is not high|medium|low; skipped")
            continue
        if not name:
            problems.append(f"{where}: no event name; skipped")
            continue
        country = row[3].strip() if len(row) > 3 else ""
        events.append(Event(int(moment.timestamp() * 1000), name, importance, country))
    return Calendar(events, problems)


def blocking(events: list[Event], settings: CalendarSettings, now_ms: int) -> list[Event]:
    """The events whose window holds `now`."""
    out = []
    for event in events:
        window = getattr(settings, event.importance)
        start = event.at_ms - window.before_minutes * 60_000
        end = event.at_ms + window.after_minutes * 60_000
        if (window.before_minutes or window.after_minutes) and start <= now_ms <= end:
            out.append(event)
    return out
