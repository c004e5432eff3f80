"""Execution modes and the rule that live trading must be asked for three times."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from tradekit.config import Config
from tradekit.errors import ConfigError
from tradekit.records import Mode
from tradekit.redact import MIN_SECRET_LENGTH

CREDENTIAL_VARS = ("BITGET_API_KEY", "BITGET_API_SECRET", "BITGET_API_PASSPHRASE")


def missing_credentials(environ: Mapping[str, str]) -> list[str]:
    """Credentials that are absent, blank, or too short to be real (and to be masked)."""
    return [
        name for name in CREDENTIAL_VARS if len(environ.get(name, "").strip()) < MIN_SECRET_LENGTH
    ]


def live_refusals(config: Config, environ: Mapping[str, str]) -> list[str]:
    """Each condition of live trading that is not met (empty: live can be used)."""
    refusals = []
    if not config.live.enabled:
        refusals.append("[live] enabled is false in the config")
    missing = missing_credentials(environ)
    if missing:
        refusals.append("missing or unusable " + ", ".join(missing) + " in the environment")
    return refusals


@dataclass(frozen=True)
class ModeChoice:
    mode: Mode
    requested: Mode | None


def resolve_mode(
    requested: Mode | None, config: Config, environ: Mapping[str, str], default: Mode
) -> ModeChoice:
    """The mode a run uses: the flag, else the config's `mode`, else the command's default.

    Live needs the --live flag *and* `[live] enabled = true` *and* credentials. An explicit
    --live that cannot be used is a ConfigError (exit 78) naming every missing condition,
    never a quiet dry-run: the run must not start at all.
    """
    if requested == "live":
        refusals = live_refusals(config, environ)
        if refusals:
            raise ConfigError("--live refused: " + "; ".join(refusals))
    if requested is not None:
        return ModeChoice(requested, requested)
    return ModeChoice(config.mode or default, None)
