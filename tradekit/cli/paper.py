"""tk paper: the simulated exchange's account (status, fills, reset, deposit, trade)."""

import secrets
import sys
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

import typer

from tradekit import jsonio, symbols
from tradekit.cli.base import Session, guarded, new_app, run_app
from tradekit.cli.options import CommonOptions, modeless_options
from tradekit.errors import UsageError
from tradekit.exitstatus import ExitStatus
from tradekit.symbols import symbol_argument

PROG = "tk paper"
SUMMARY = "Show, reset, fund or trade by hand the paper account that --paper trades on."
HELP = f"""{SUMMARY}

The paper account lives in HOME/tradekit.db; its prices are the closes of the candles in
HOME/data at the run's time (--now), each bar since the last run replayed in order.
"""

app = new_app(HELP)


def _exchange(session: Session):
    from tradekit.exchange.paper import PaperExchange
    from tradekit.market.store import CandleStore
    from tradekit.store import Store

    store = Store(session.home.db_file, session.redactor)
    paper = session.config.paper
    return PaperExchange(
        store,
        CandleStore(session.home.data),
        session.clock,
        slippage=paper.slippage,
        starting_balance=paper.starting_balance,
    )


def _amount(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise UsageError(f"{text!r} is not an amount") from None
    if not value.is_finite() or value <= 0:
        raise UsageError(f"{text!r}: the amount must be a positive number")
    return value


@app.command("status", help="Equity, balance, positions and open orders.")
@modeless_options
def status(
    common: CommonOptions,
    json_output: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
) -> None:
    def body() -> ExitStatus:
        session = Session.open(PROG, common)
        exchange = _exchange(session)
        with exchange.session() as engine:
            info: dict[str, Any] = {
                "equity": engine.equity(),
                "balance": engine.state.balance,
                "available": engine.available(),
                "positions": [
                    {"symbol": p.symbol, "side": p.side, "size": p.size,
                     "entryPrice": p.entry_price,
                     "mark": engine.state.prices[p.symbol].mark,
                     "unrealizedPnl": p.unrealized(engine.state.prices[p.symbol].mark),
                     "leverage": p.leverage, "marginMode": p.margin_mode,
                     "liquidationPrice": p.liquidation_price(engine.markets[p.symbol])}
                    for p in engine.state.positions.values()
                ],
                "openOrders": [
                    {"id": o.id, "clientOid": o.client_oid, "symbol": o.symbol, "side": o.side,
                     "type": o.plan_type if o.plan_type != "normal" else o.type,
                     "size": o.size, "price": o.price, "triggerPrice": o.trigger_price}
                    for o in engine.state.orders.values() if o.open
                ],
                "fills": len(engine.state.fills),
                "lastFills": _fill_rows(engine, None, 5),
            }  # fmt: skip
        exchange.store.close()
        if json_output:
            sys.stdout.buffer.write(jsonio.dumps(info) + b"\n")
            return ExitStatus.OK
        from tradekit.cli.tables import Column, Table, show

        account = Table((Column("account"), Column("USDT", numeric=True)))
        account.add("equity", f"{info['equity']:.2f}")
        account.add("balance", f"{info['balance']:.2f}")
        account.add("available", f"{info['available']:.2f}")
        tables = [account]
        if info["positions"]:
            positions = Table(
                (Column("symbol"), Column("side"), Column("size", numeric=True),
                 Column("entry", numeric=True), Column("mark", numeric=True),
                 Column("pnl", numeric=True), Column("leverage", numeric=True),
                 Column("liquidation", numeric=True)),
                title="positions",
            )  # fmt: skip
            for p in info["positions"]:
                positions.add(
                    p["symbol"], p["side"], p["size"], f"{p['entryPrice']:.2f}", p["mark"],
                    f"{p['unrealizedPnl']:.2f}", f"{p['leverage']}x",
                    f"{p['liquidationPrice']:.2f}",
                )  # fmt: skip
            tables.append(positions)
        if info["openOrders"]:
            orders = Table(
                (Column("symbol"), Column("type"), Column("side"), Column("size", numeric=True),
                 Column("at", numeric=True), Column("clientOid")),
                title="open orders",
            )  # fmt: skip
            for o in info["openOrders"]:
                at = o["triggerPrice"] or o["price"] or "market"
                orders.add(o["symbol"], o["type"], o["side"], o["size"], at, o["clientOid"])
            tables.append(orders)
        if info["lastFills"]:
            tables.append(_fills_table(info["lastFills"], title="last fills"))
        show(*tables)
        typer.echo(f"fills: {info['fills']} (tk paper fills lists them all)")
        return ExitStatus.OK

    guarded(PROG, common.verbosity, body)


@app.command("reset", help="Start a new paper account (positions and orders are dropped).")
@modeless_options
def reset(
    common: CommonOptions,
    balance: Annotated[
        str | None, typer.Option("--balance", help="USDT; default [paper] starting_balance.")
    ] = None,
) -> None:
    def body() -> ExitStatus:
        session = Session.open(PROG, common)
        amount = _amount(balance) if balance else session.config.paper.starting_balance
        exchange = _exchange(session)
        exchange.reset(amount)
        exchange.store.close()
        typer.echo(f"paper account reset: {amount} USDT")
        return ExitStatus.OK

    guarded(PROG, common.verbosity, body)


@app.command("deposit", help="Add USDT to the paper account.")
@modeless_options
def deposit(
    common: CommonOptions,
    amount: Annotated[str, typer.Argument(help="USDT to add.")],
) -> None:
    def body() -> ExitStatus:
        session = Session.open(PROG, common)
        exchange = _exchange(session)
        balance = exchange.deposit(_amount(amount))
        exchange.store.close()
        typer.echo(f"balance {balance} USDT")
        return ExitStatus.OK

    guarded(PROG, common.verbosity, body)


def fill_origin(state: Any, fill: Any) -> str:
    """Which order a fill came from, for a person: stop-loss, take-profit, a trigger
    entry, a liquidation, a manual trade, or tk-exec's order (its role)."""
    order = state.orders.get(fill.order_id)
    plan_type = order.plan_type if order is not None else "normal"
    if plan_type in ("pos_loss", "pos_profit", "plan"):
        return {"pos_loss": "stop-loss", "pos_profit": "take-profit", "plan": "trigger"}[plan_type]
    oid = fill.client_oid
    if oid.startswith("tk-liq-"):
        return "liquidation"
    if oid.startswith("manual-"):
        return "manual"
    return f"tk-exec {oid.rsplit('-', 1)[-1]}" if oid.startswith("tk") else "order"


def _fill_rows(engine: Any, symbol: str | None, last: int | None) -> list[dict[str, Any]]:
    from datetime import UTC, datetime

    fills = [f for f in engine.state.fills if symbol is None or f.symbol == symbol]
    return [
        {"time": datetime.fromtimestamp(f.ts / 1000, UTC), "symbol": f.symbol, "side": f.side,
         "tradeSide": f.trade_side, "size": f.size, "price": f.price, "fee": f.fee,
         "profit": f.profit, "order": fill_origin(engine.state, f), "clientOid": f.client_oid}
        for f in (fills[-last:] if last else fills)
    ]  # fmt: skip


def _fills_table(rows: list[dict[str, Any]], title: str | None = None) -> Any:
    from tradekit.cli.tables import Column, Table

    table = Table(
        (Column("time (UTC)"), Column("symbol"), Column("side"), Column("open/close"),
         Column("size", numeric=True), Column("price", numeric=True),
         Column("fee", numeric=True), Column("profit", numeric=True), Column("order")),
        title=title,
    )  # fmt: skip
    for r in rows:
        table.add(
            f"{r['time']:%Y-%m-%d %H:%M:%S}", r["symbol"], r["side"], r["tradeSide"], r["size"],
            r["price"], r["fee"], r["profit"], r["order"],
        )  # fmt: skip
    return table


@app.command(
    "fills",
    help="The paper account's fills, oldest first, and which order each came from "
    "(stop-loss, take-profit, trigger, liquidation, manual, or tk-exec's entry/sl/tp).",
)
@modeless_options
def fills(
    common: CommonOptions,
    symbol: Annotated[str | None, typer.Option("--symbol", help="Only this symbol.")] = None,
    last: Annotated[int | None, typer.Option("--last", min=1, help="Only the last N.")] = None,
    json_output: Annotated[bool, typer.Option("--json", help="JSON lines.")] = False,
) -> None:
    def body() -> ExitStatus:
        from tradekit.cli.tables import show

        session = Session.open(PROG, common)
        exchange = _exchange(session)
        with exchange.session() as engine:
            rows = _fill_rows(engine, symbol, last)
        exchange.store.close()
        if json_output:
            sys.stdout.buffer.write(b"".join(jsonio.dumps(row) + b"\n" for row in rows))
        elif rows:
            show(_fills_table(rows))
        else:
            session.reporter.note("no fills yet")
        return ExitStatus.OK

    guarded(PROG, common.verbosity, body)


@app.command(
    "trade",
    help="Place a market order by hand, with an optional stop-loss/take-profit. Refused "
    "(exit 69) when the price is older than [guard.watch] max_stale_seconds, as tk-risk "
    "and tk-guard refuse it.",
)
@modeless_options
def trade(
    common: CommonOptions,
    side: Annotated[str, typer.Argument(help="buy or sell")],
    size: Annotated[str, typer.Argument(help="In the base coin, e.g. 0.01 (BTC).")],
    market: Annotated[str, typer.Option("--symbol", help=symbols.HELP)] = "BTCUSDT",
    leverage: Annotated[int, typer.Option("--leverage", min=1, max=125)] = 5,
    stop_loss: Annotated[str | None, typer.Option("--sl", help="Stop-loss trigger price.")] = None,
    take_profit: Annotated[
        str | None, typer.Option("--tp", help="Take-profit trigger price.")
    ] = None,
) -> None:
    def body() -> ExitStatus:
        from tradekit.exchange.errors import Rejected

        if side not in ("buy", "sell"):
            raise UsageError(f"side {side!r}: buy or sell")
        symbol = symbol_argument(market, "--symbol")
        session = Session.open(PROG, common)
        exchange = _exchange(session)
        from tradekit.exchange.adapters import PaperAdapter

        paper = PaperAdapter(exchange)
        # the time, and a random part: two trades at the same --now are two orders
        stamp = f"{int(session.clock.now().timestamp())}-{secrets.token_hex(3)}"
        _refuse_a_stale_price(paper, symbol, int(session.clock.now().timestamp() * 1000), session)
        if not paper.positions(symbol):
            paper.configure(
                symbol, leverage=leverage, margin_mode="isolated", position_mode="one_way_mode"
            )
        try:
            order = paper.place(symbol, side, _amount(size), client_oid=f"manual-{stamp}")  # type: ignore[arg-type]
        except Rejected as exc:  # the size, the margin: the order asked for, not the exchange
            raise UsageError(f"the paper exchange refused the order: {exc}") from None
        typer.echo(f"{order.state} {order.side} {order.filled} {symbol} @ {order.average}")
        held = "long" if side == "buy" else "short"
        for kind, price in (("sl", stop_loss), ("tp", take_profit)):
            if price is not None:
                stop = paper.place_stop(
                    symbol,
                    held,
                    kind,
                    _amount(price),  # type: ignore[arg-type]
                    client_oid=f"manual-{stamp}-{kind}",
                )
                typer.echo(f"{kind} at {stop.trigger_price} for {stop.size} {symbol}")
        exchange.store.close()
        return ExitStatus.OK

    guarded(PROG, common.verbosity, body)


def _refuse_a_stale_price(paper: Any, symbol: str, now_ms: int, session: Session) -> None:
    """A fill at a price tk-guard would call stale is refused, as tk-risk refuses entries."""
    from tradekit.errors import ExchangeUnavailableError
    from tradekit.market.freshness import stale_reason

    limit = session.config.guard.watch.max_stale_seconds
    reason = stale_reason(symbol, paper.ticker(symbol).ts_ms, now_ms, limit)
    if reason is not None:
        raise ExchangeUnavailableError(f"{reason}: not trading on it")


def main(argv: list[str] | None = None, prog_name: str | None = None) -> None:
    run_app(app, argv, prog_name or PROG)
