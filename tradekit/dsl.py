"""The strategy DSL's expression language: tokenizer, parser (to an AST) and a vectorised
evaluator over numpy arrays. Never eval/exec.

    close > ema_fast and adx > 20            and / && / 并且 / 且
    rsi14 < 30 or (close < open) 或 (x)       or / || / 或者 / 或
    not (a > b),  !(a > b)                    not / !
    + - * / %  < <= > >= == !=  ( )  c ? a : b
    abs min max pow sqrt floor ceil round log exp   true false null

A value counts as true when it is > 0 (comparisons give 1 or 0); NaN (an indicator not
yet defined, null) is never true. Errors name the column and show the offending token.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

import numpy as np

MAX_LENGTH = 1000
FUNCTIONS: dict[str, tuple[int, int]] = {  # name -> (min args, max args)
    "abs": (1, 1),
    "sqrt": (1, 1),
    "floor": (1, 1),
    "ceil": (1, 1),
    "round": (1, 1),
    "log": (1, 1),
    "exp": (1, 1),
    "pow": (2, 2),
    "min": (2, 8),
    "max": (2, 8),
}
CONSTANTS = {"true": 1.0, "false": 0.0, "null": float("nan")}
_WORDS = {
    "and": "and",
    "并且": "and",
    "且": "and",
    "&&": "and",
    "or": "or",
    "或者": "or",
    "或": "or",
    "||": "or",
    "not": "not",
    "!": "not",
}
_TOKEN = re.compile(
    r"""(?P<space>\s+)
      | (?P<number>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)
      | (?P<cjk>并且|或者|且|或)
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<op>===|!==|==|!=|<=|>=|&&|\|\||[-+*/%<>!(),?:])""",
    re.VERBOSE,
)


class DslError(ValueError):
    """A problem in an expression, with its column (1-based) and a caret line."""

    def __init__(self, message: str, text: str, column: int):
        self.message, self.text, self.column = message, text, column
        # Wide characters (并且, 或) take two terminal columns: pad the caret to match.
        pad = "".join(
            "  " if unicodedata.east_asian_width(char) in "WF" else " "
            for char in text[: column - 1]
        )
        super().__init__(f"column {column}: {message}\n    {text}\n    {pad}^")


@dataclass(frozen=True)
class Token:
    kind: str  # number, name, op, end
    text: str
    column: int


def tokenize(text: str) -> list[Token]:
    if len(text) > MAX_LENGTH:
        raise DslError(f"expression longer than {MAX_LENGTH} characters", text[:60], 1)
    tokens, position = [], 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise DslError(f"unexpected character {text[position]!r}", text, position + 1)
        kind = match.lastgroup or ""
        value = match.group()
        if kind == "cjk":
            tokens.append(Token("op", _WORDS[value], position + 1))
        elif kind == "name" and value in ("and", "or", "not"):
            tokens.append(Token("op", value, position + 1))
        elif kind == "op" and value in _WORDS:
            tokens.append(Token("op", _WORDS[value], position + 1))
        elif kind != "space":
            tokens.append(Token(kind, {"===": "==", "!==": "!="}.get(value, value), position + 1))
        position = match.end()
    tokens.append(Token("end", "", len(text) + 1))
    return tokens


# -- AST ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Num:
    value: float


@dataclass(frozen=True)
class Var:
    name: str


@dataclass(frozen=True)
class Unary:
    op: str
    operand: Any


@dataclass(frozen=True)
class Binary:
    op: str
    left: Any
    right: Any


@dataclass(frozen=True)
class Call:
    function: str
    args: tuple[Any, ...]


@dataclass(frozen=True)
class Choice:
    condition: Any
    then: Any
    otherwise: Any


class _Parser:
    def __init__(self, text: str, names: set[str]):
        self.text = text
        self.names = names
        self.tokens = tokenize(text)
        self.index = 0

    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def fail(self, message: str, token: Token | None = None) -> DslError:
        token = token or self.token
        return DslError(message, self.text, token.column)

    def take(self, text: str | None = None) -> Token:
        token = self.token
        if text is not None and token.text != text:
            found = "the end" if token.kind == "end" else repr(token.text)
            raise self.fail(f"expected {text!r}, found {found}")
        self.index += 1
        return token

    def parse(self) -> Any:
        if self.token.kind == "end":
            raise self.fail("empty expression")
        node = self.choice()
        if self.token.kind != "end":
            raise self.fail(f"unexpected {self.token.text!r}")
        return node

    def choice(self) -> Any:
        node = self.binary(0)
        if self.token.text == "?":
            self.take("?")
            then = self.choice()
            self.take(":")
            return Choice(node, then, self.choice())
        return node

    # Loosest first. `not` sits between `and` and the comparisons, as in Python:
    # `not a > b` is `not (a > b)`.
    _LEVELS = (
        ("or",),
        ("and",),
        ("not",),
        ("==", "!=", "<", "<=", ">", ">="),
        ("+", "-"),
        ("*", "/", "%"),
    )
    _NOT, _COMPARE = 2, 3

    def binary(self, level: int) -> Any:
        if level == len(self._LEVELS):
            return self.unary()
        if level == self._NOT:
            if self.token.text == "not":
                self.take()
                return Unary("not", self.binary(self._NOT))
            return self.binary(level + 1)
        node = self.binary(level + 1)
        while self.token.kind == "op" and self.token.text in self._LEVELS[level]:
            op = self.take().text
            node = Binary(op, node, self.binary(level + 1))
            if level == self._COMPARE and self.token.text in self._LEVELS[level]:
                raise self.fail("chained comparison: use 'and' (a < b and b < c)")
        return node

    def unary(self) -> Any:
        if self.token.text in ("-", "+"):
            op = self.take().text
            return Unary(op, self.unary())
        return self.atom()

    def atom(self) -> Any:
        token = self.token
        if token.kind == "number":
            self.take()
            return Num(float(token.text))
        if token.text == "(":
            self.take("(")
            node = self.choice()
            self.take(")")
            return node
        if token.kind == "name":
            self.take()
            if self.token.text == "(":
                return self.call(token)
            if token.text in CONSTANTS:
                return Num(CONSTANTS[token.text])
            if token.text in FUNCTIONS:
                raise self.fail(f"{token.text} is a function: call it, {token.text}(...)", token)
            if token.text not in self.names:
                known = ", ".join(sorted(self.names))
                raise self.fail(f"unknown name {token.text!r} (known: {known})", token)
            return Var(token.text)
        found = "the end" if token.kind == "end" else repr(token.text)
        raise self.fail(f"expected a value, found {found}")

    def call(self, name: Token) -> Call:
        if name.text not in FUNCTIONS:
            raise self.fail(f"unknown function {name.text!r}", name)
        self.take("(")
        args = [self.choice()]
        while self.token.text == ",":
            self.take(",")
            args.append(self.choice())
        self.take(")")
        low, high = FUNCTIONS[name.text]
        if not low <= len(args) <= high:
            wanted = str(low) if low == high else f"{low} to {high}"
            raise self.fail(f"{name.text}() takes {wanted} argument(s), got {len(args)}", name)
        return Call(name.text, tuple(args))


def parse(text: str, names: set[str]) -> Any:
    """Parse an expression over the given variable names into an AST."""
    return _Parser(text, names).parse()


# -- evaluation -----------------------------------------------------------------------------

_UNARY_FUNCTIONS = {
    "abs": np.abs,
    "sqrt": np.sqrt,
    "floor": np.floor,
    "ceil": np.ceil,
    "round": np.round,
    "log": np.log,
    "exp": np.exp,
}


def _truth(values: np.ndarray) -> np.ndarray:
    return values > 0


def _flag(values: np.ndarray) -> np.ndarray:
    return values.astype(float)


_BINARY = {
    "and": lambda a, b: _flag(_truth(a) & _truth(b)),
    "or": lambda a, b: _flag(_truth(a) | _truth(b)),
    "+": np.add,
    "-": np.subtract,
    "*": np.multiply,
    "/": np.divide,
    "%": np.fmod,
    "<": lambda a, b: _flag(a < b),
    "<=": lambda a, b: _flag(a <= b),
    ">": lambda a, b: _flag(a > b),
    ">=": lambda a, b: _flag(a >= b),
    "==": lambda a, b: _flag(a == b),
    "!=": lambda a, b: _flag((a != b) & ~np.isnan(a) & ~np.isnan(b)),
}


def evaluate(node: Any, variables: dict[str, np.ndarray], length: int) -> np.ndarray:
    """Evaluate an AST over whole columns; returns float64 (1.0 / 0.0 for conditions)."""
    with np.errstate(all="ignore"):
        return _eval(node, variables, length)


def _eval(node: Any, env: dict[str, np.ndarray], n: int) -> np.ndarray:  # noqa: PLR0911
    if isinstance(node, Num):
        return np.full(n, node.value)
    if isinstance(node, Var):
        return env[node.name]
    if isinstance(node, Unary):
        value = _eval(node.operand, env, n)
        if node.op == "not":
            return (~_truth(value)).astype(float)
        return -value if node.op == "-" else value
    if isinstance(node, Choice):
        return np.where(
            _truth(_eval(node.condition, env, n)),
            _eval(node.then, env, n),
            _eval(node.otherwise, env, n),
        )
    if isinstance(node, Call):
        args = [_eval(arg, env, n) for arg in node.args]
        if node.function in _UNARY_FUNCTIONS:
            return _UNARY_FUNCTIONS[node.function](args[0])
        if node.function == "pow":
            return np.power(args[0], args[1])
        reduce = np.fmin if node.function == "min" else np.fmax
        result = args[0]
        for arg in args[1:]:
            result = reduce(result, arg)
        return result
    return _BINARY[node.op](_eval(node.left, env, n), _eval(node.right, env, n))
