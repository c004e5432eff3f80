"""Order latency through real ccxt to the local Bitget emulator, markets already loaded.

    .venv/bin/python bench/exchange.py [--bundles N]

Each bundle is an entry, a stop-loss and a take-profit (three orders), from a flat account
(the position is closed between bundles, untimed). Prints the time per
order for ccxt's create_order alone, and through tradekit's exchange interface (which also
reads each order back, as tk-exec does to learn its state). Target: <= 20 ms per order.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from tradekit.emulator.server import TEST_CREDENTIALS, Emulator
from tradekit.exchange.adapters import BitgetAdapter
from tradekit.exchange.bitget import ExchangeSettings, client
from tradekit.market.candles import read_csv
from tradekit.market.store import CandleStore

ROOT = Path(__file__).resolve().parent.parent
PAIR = "BTC/USDT:USDT"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundles", type=int, default=50)
    args = parser.parse_args()
    store = CandleStore(Path(tempfile.mkdtemp(prefix="tk-bench-")))
    store.merge(read_csv(ROOT / "examples" / "BTCUSDT-1h.csv", "BTCUSDT", "1h"))
    emulator = Emulator(store, market_clock=lambda: 1771524000000, balance=Decimal(10**9))
    key, (secret, passphrase) = next(iter(TEST_CREDENTIALS.items()))
    with emulator.serve() as server:
        ex = client(
            ExchangeSettings(url=server.url, rate_limit=False),
            {"apiKey": key, "secret": secret, "password": passphrase},
        )
        ex.load_markets()
        ex.fetch_balance()  # warm: connection open
        raw, adapter_times = [], []
        for n in range(args.bundles):
            start = time.perf_counter()
            ex.create_order(PAIR, "market", "buy", 0.01, None, {"clientOrderId": f"r{n}e"})
            ex.create_order(
                PAIR,
                "market",
                "sell",
                0.01,
                None,
                {"stopLossPrice": 50000, "clientOrderId": f"r{n}s"},
            )
            ex.create_order(
                PAIR,
                "market",
                "sell",
                0.01,
                None,
                {"takeProfitPrice": 90000, "clientOrderId": f"r{n}t"},
            )
            raw.append((time.perf_counter() - start) / 3)
            ex.close_position(PAIR)  # each bundle starts flat (not timed)
        adapter = BitgetAdapter(ex)
        for n in range(args.bundles):
            start = time.perf_counter()
            adapter.place("BTCUSDT", "buy", Decimal("0.01"), client_oid=f"a{n}e")
            adapter.place_stop(
                "BTCUSDT", "long", "sl", Decimal(50000), client_oid=f"a{n}s", size=Decimal("0.01")
            )
            adapter.place_stop(
                "BTCUSDT", "long", "tp", Decimal(90000), client_oid=f"a{n}t", size=Decimal("0.01")
            )
            adapter_times.append((time.perf_counter() - start) / 3)
            adapter.close_position("BTCUSDT")

    def show(label: str, samples: list[float]) -> None:
        ms = sorted(s * 1000 for s in samples)
        print(
            f"{label:<44} median {statistics.median(ms):6.2f} ms   "
            f"p90 {ms[int(len(ms) * 0.9)]:6.2f} ms   max {ms[-1]:6.2f} ms"
        )

    print(f"{args.bundles} bundles of entry + stop-loss + take-profit, per order:")
    show("ccxt create_order -> emulator", raw)
    show("tradekit interface (place + read back)", adapter_times)


if __name__ == "__main__":
    main()
