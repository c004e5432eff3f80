"""What the benchmark scripts share: running an installed command and timing it."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

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
