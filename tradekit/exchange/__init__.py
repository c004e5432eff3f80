"""Exchanges: Bitget through ccxt (imported only here, only when used)."""
