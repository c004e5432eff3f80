"""The typed configuration (TK_HOME/config.toml). Unknown keys and bad values are errors
that name the key and the file; a missing file means all defaults."""

from __future__ import annotations

import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from tradekit.backtest.settings import BacktestSettings
from tradekit.errors import ConfigError
from tradekit.execution.settings import ExecutionSettings
from tradekit.guard.settings import GuardSettings
from tradekit.news.settings import NewsSettings
from tradekit.records.base import Num
from tradekit.risk.settings import RiskSettings
from tradekit.section import Section
from tradekit.telegram.sources.settings import TelegramSettings


class LiveConfig(Section):
    enabled: bool = False


class ExchangeConfig(Section):
    #: A Bitget-compatible REST base URL (`tk emulator` prints one); unset means Bitget.
    url: str | None = None
    #: Its public websocket URL (tk-guard --watch); unset means Bitget's.
    ws_url: str | None = None
    #: Bitget demo trading (adds the PAPTRADING header; same host).
    demo: bool = False
    rate_limit: bool = True
    timeout_ms: int = Field(10_000, ge=100, le=120_000)


class PaperConfig(Section):
    starting_balance: Num = Field(Decimal(1000), gt=0)
    slippage: Num = Field(Decimal("0.0003"), ge=0, lt=Decimal("0.1"))


class Config(Section):
    mode: Literal["dry-run", "paper"] | None = None
    live: LiveConfig = LiveConfig()
    exchange: ExchangeConfig = ExchangeConfig()
    paper: PaperConfig = PaperConfig()
    risk: RiskSettings = RiskSettings()
    execution: ExecutionSettings = ExecutionSettings()
    guard: GuardSettings = GuardSettings()
    news: NewsSettings = NewsSettings()
    telegram: TelegramSettings = TelegramSettings()
    backtest: BacktestSettings = BacktestSettings()
    #: [strategies.NAME] tables; each strategy validates its own (typed) parameters.
    strategies: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @field_validator("strategies")
    @classmethod
    def _known_strategies(cls, tables: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        from tradekit.strategies import REGISTRY  # names only: no strategy code is loaded

        unknown = sorted(set(tables) - set(REGISTRY))
        if unknown:
            raise PydanticCustomError(
                "unknown_strategy",
                "strategies.{name}: unknown strategy (one of: {known})",
                {"name": unknown[0], "known": ", ".join(sorted(REGISTRY))},
            )
        return tables


def _describe(exc: ValidationError, path: Path) -> str:
    lines = []
    for err in exc.errors(include_url=False):
        key = ".".join(str(part) for part in err["loc"]) or "(top level)"
        if err["type"] == "unknown_strategy":  # a typo'd table name: the key it names
            lines.append(f"{path}: {err['msg']}")
        elif err["type"] == "extra_forbidden":
            lines.append(f"{path}: {key}: unknown key")
        elif err["type"] == "literal_error" and key == "mode" and err["input"] == "live":
            lines.append(
                f"{path}: mode: 'live' cannot be set in the config; pass --live on the "
                "command line (and set [live] enabled = true)"
            )
        else:
            message = err["msg"].removeprefix("Value error, ")
            # a whole table's check: the message names the values, the table is noise
            got = "" if isinstance(err["input"], dict) else f" (got {err['input']!r})"
            lines.append(f"{path}: {key}: {message}{got}")
    return "\n".join(lines)


def load_config(path: Path, *, required: bool = False) -> Config:
    """Read and validate a config file. Missing and not required: the defaults."""
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        if required:
            raise ConfigError(f"{path}: no such config file") from None
        return Config()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    try:
        data = tomllib.loads(text, parse_float=Decimal)  # exact, as Decimal fields want
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, path)) from None
