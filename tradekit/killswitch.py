"""The kill switch: a file, an environment variable or a database flag.

    HOME/KILL_SWITCH          empty or "safe": safe mode; "panic": panic
    TK_KILL_SWITCH=safe|panic (or 1 for safe)
    flag kill_switch in the database (`tk kill safe|panic|off`)

Safe mode blocks new entries (manage actions and closes still go through); panic also
closes everything (tk-guard). The strictest of the three wins.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

KillState = Literal["off", "safe", "panic"]
_RANK = {"off": 0, "safe": 1, "panic": 2}
FILE_NAME = "KILL_SWITCH"
ENV_VAR = "TK_KILL_SWITCH"
FLAG = "kill_switch"


def _parse(text: str | None) -> KillState:
    value = (text or "").strip().lower()
    if value in ("", "0", "off", "false", "no"):
        return "off"
    return "panic" if value == "panic" else "safe"


def _file_state(path: Path) -> KillState | None:
    """What the switch file says (None: there is none). One that exists but cannot be
    read (a directory, no permission) counts as safe: the switch fails closed."""
    if not path.exists():
        return None
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "safe"
    return "safe" if not text.strip() else _parse(text)


def kill_state(
    home: Path, flag: str | None, environ: Mapping[str, str] | None = None
) -> tuple[KillState, str]:
    """The switch's state and where it came from (the strictest source wins)."""
    sources = kill_sources(home, flag, environ)
    if not sources:
        return "off", ""
    source, state = max(sources.items(), key=lambda item: _RANK[item[1]])
    return state, source


def kill_sources(
    home: Path, flag: str | None, environ: Mapping[str, str] | None = None
) -> dict[str, KillState]:
    """Every source that is set, and what it says."""
    env = os.environ if environ is None else environ
    out: dict[str, KillState] = {}
    file_state = _file_state(home / FILE_NAME)
    if file_state is not None:
        out[f"file TK_HOME/{FILE_NAME}"] = file_state
    if env.get(ENV_VAR):
        out[f"${ENV_VAR}"] = _parse(env[ENV_VAR])
    if flag:
        out["database flag (tk kill)"] = _parse(flag)
    return out
