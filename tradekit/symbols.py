"""What a symbol is: the Bitget id of a USDT-margined perpetual, like BTCUSDT or 1000BONKUSDT.

Every symbol that comes from a user (an option, the config), a file (a CSV's name) or a
record (plan.symbol) goes through `bitget_symbol` before it becomes a path under TK_HOME,
a key in the ledger or an order, so `../../x` or a 300-character name is refused with a
message instead of escaping TK_HOME or crashing on the file system.

Accepted, and written from then on as the Bitget id:

- the id: `BTCUSDT`, `1000BONKUSDT` (letters and digits, then USDT; at most 24 characters);
- the id in any case: `btcusdt`;
- ccxt's unified symbol of the perpetual, in any case: `BTC/USDT:USDT`.

Refused: ccxt's *spot* symbol `BTC/USDT` (another market, which tradekit does not trade),
other settle coins (`BTCUSD`, `BTC/USD:BTC`), dated futures (`BTC/USDT:USDT-250328`),
separators (`BTC-USDT`), spaces and anything else.
"""

from __future__ import annotations

import re

from tradekit.errors import UsageError

SETTLE = "USDT"
#: the longest base coin accepted; Bitget's longest (1000000MOG, 1MBABYDOGE) are about 10
MAX_BASE = 20
MAX_LENGTH = MAX_BASE + len(SETTLE)
EXAMPLES = "like BTCUSDT, 1000BONKUSDT, btcusdt or BTC/USDT:USDT"
#: what --help says of a symbol argument
HELP = "Bitget id, e.g. BTCUSDT (btcusdt or BTC/USDT:USDT mean the same)."

_BASE = rf"(?P<base>[A-Z0-9]{{1,{MAX_BASE}}})"
_ID = re.compile(rf"{_BASE}{SETTLE}")
_UNIFIED = re.compile(rf"{_BASE}/{SETTLE}:{SETTLE}")
_SPOT = re.compile(rf"{_BASE}/{SETTLE}")
#: the longest text worth matching: a unified symbol (BASE/USDT:USDT)
_LONGEST_FORM = MAX_BASE + 2 * len(SETTLE) + 2
#: how much of a refused symbol a message quotes
_SHOWN = 40


def _any_case(text: str) -> str:
    return "".join(f"[{c}{c.lower()}]" if c.isalpha() else re.escape(c) for c in text)


#: the accepted forms as a JSON Schema pattern (no inline flags in JSON Schema's dialect)
SCHEMA_PATTERN = (
    f"^[A-Za-z0-9]{{1,{MAX_BASE}}}({_any_case(SETTLE)}|{_any_case(f'/{SETTLE}:{SETTLE}')})$"
)


class SymbolError(UsageError, ValueError):
    """Not a symbol. A UsageError for a command (exit 2) and a ValueError for a record
    model (the line is a bad line naming the field)."""


#: text already seen -> its id: a stream repeats a few symbols, and this is tk-risk's hot path
_seen: dict[str, str] = {}
_SEEN_MAX = 4096


def bitget_symbol(text: object) -> str:
    """The Bitget id `text` names (BTCUSDT for btcusdt or BTC/USDT:USDT); SymbolError if
    it names none."""
    if text.__class__ is str:
        known = _seen.get(text)  # type: ignore[call-overload]
        if known is not None:
            return known
    symbol = _parse(text)
    if len(_seen) < _SEEN_MAX:
        _seen[text] = symbol  # type: ignore[index]
    return symbol


def is_bitget_id(text: str) -> bool:
    """Whether `text` is a symbol written as its Bitget id (BTCUSDT, not btcusdt)."""
    return _ID.fullmatch(text) is not None


def _parse(text: object) -> str:
    if not isinstance(text, str):
        raise SymbolError(f"a symbol must be text, not {type(text).__name__}")
    if len(text) > _LONGEST_FORM:
        raise SymbolError(
            f"{_shown(text)} is not a symbol: {len(text)} characters, a Bitget id has at "
            f"most {MAX_LENGTH} ({EXAMPLES})"
        )
    upper = text.upper() if text.isascii() else ""
    found = _ID.fullmatch(upper) or _UNIFIED.fullmatch(upper)
    if found:
        return found["base"] + SETTLE
    spot = _SPOT.fullmatch(upper)
    if spot:
        base = spot["base"]
        raise SymbolError(
            f"{text!r} is ccxt's spot market; tradekit trades the perpetual "
            f"{base}/{SETTLE}:{SETTLE}, Bitget id {base}{SETTLE}"
        )
    raise SymbolError(f"{_shown(text)} is not a Bitget USDT-M perpetual symbol ({EXAMPLES})")


def _shown(text: str) -> str:
    return repr(text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…")


def symbol_argument(text: str, name: str) -> str:
    """A symbol given on the command line: its id, or a UsageError naming the option."""
    try:
        return bitget_symbol(text)
    except SymbolError as exc:
        raise SymbolError(f"{name}: {exc}") from None
