"""tradekit: small commands for automated trading of Bitget USDT-margined perpetual futures.

Each command reads and writes JSON lines (TradePlan v1 records) so that shell pipes
compose the whole system. See README.md.
"""

__version__ = "0.1.0"
