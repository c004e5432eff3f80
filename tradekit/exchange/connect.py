"""Building the exchange a run trades on, from its mode, the config and the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from tradekit.errors import ConfigError
from tradekit.modes import CREDENTIAL_VARS, missing_credentials


def credentials(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """ccxt credentials from BITGET_API_KEY / _SECRET / _PASSPHRASE (never from files)."""
    env = os.environ if environ is None else environ
    missing = missing_credentials(env)
    if missing:
        raise ConfigError("missing or unusable " + ", ".join(missing) + " in the environment")
    key, secret, passphrase = (env[name] for name in CREDENTIAL_VARS)
    return {"apiKey": key, "secret": secret, "password": passphrase}


def paper_exchange(session: Any, store: Any) -> Any:
    """The paper exchange of a session (its account in `store`, prices from HOME/data);
    a backtest's session brings its own, shared by every stage."""
    held = getattr(session, "held_paper", None)
    if held is not None:
        return held
    from tradekit.exchange.adapters import PaperAdapter
    from tradekit.exchange.paper import PaperExchange
    from tradekit.market.store import CandleStore

    paper = session.config.paper
    return PaperAdapter(
        PaperExchange(
            store,
            CandleStore(session.home.data),
            session.clock,
            slippage=paper.slippage,
            starting_balance=paper.starting_balance,
        )
    )


def bitget_exchange(session: Any, store: Any, environ: Mapping[str, str] | None = None) -> Any:
    """Bitget through ccxt with the environment's credentials and markets cached in `store`."""
    from tradekit.exchange.adapters import BitgetAdapter, MarketCache
    from tradekit.exchange.bitget import client, settings_of

    settings = session.config.exchange
    ccxt_client = client(
        settings_of(settings),
        credentials(environ),
    )

    def now_ms() -> int:
        return int(session.clock.now().timestamp() * 1000)

    return BitgetAdapter(ccxt_client, market_cache=MarketCache(store, now_ms))
