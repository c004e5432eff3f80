"""What the benchmark scripts share: running an installed command and timing it."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent


def timed_run(args: list[str], env: dict[str, str], stdin: bytes = b"") -> float:
    """Run `BIN/args[0] args[1:]`; its wall time in seconds. A failure ends the benchmark
    with the command's stderr."""
    start = time.perf_counter()
    result = subprocess.run(
        [str(BIN / args[0]), *args[1:]], input=stdin, capture_output=True, env=env, check=False
    )
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(args)}: {result.stderr.decode()}")
    return elapsed


def approve(store: Any, plans: list[Any], mode: str, now_ms: int) -> None:
    """Record approvals of these hand-made approved TradePlans with tk-risk's own code, as
    a `tk-risk` run in `mode` at `now_ms` would have (tk-exec acts on no other risk block)."""
    from tradekit.risk.approvals import Approval, ApprovalBook, approval_digest

    ApprovalBook(store).record(
        Approval(p.cycle_id, approval_digest(p.cycle_id, p.plan, p.risk), mode, now_ms)
        for p in plans
        if p.plan is not None and p.risk is not None
    )


def record_approvals(db: Path, records: list[dict[str, Any]], mode: str, now: str) -> None:
    """approve() plans given as JSON objects, in the database file `db`, at `now`."""
    from tradekit.clock import parse_time
    from tradekit.records import TradePlan
    from tradekit.store import Store

    now_ms = int(parse_time(now).timestamp() * 1000)
    with Store(db) as store:
        approve(store, [TradePlan.model_validate(record) for record in records], mode, now_ms)
