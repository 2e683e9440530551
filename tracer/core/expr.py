"""Expressions: parsed from text with Python's ``ast`` against a whitelist, never evaluated
by Python.  Trees are frozen data, walked without recursion so that a sum of a hundred
thousand terms is as safe as ``x + 1``.
"""
from __future__ import annotations

import ast
import keyword
import math
import re
import sys
import threading
from dataclasses import dataclass, field
from typing import Callable, Iterator, Optional, Union

from .errors import did_you_mean
from .primitives import FUNCTIONS, OPERATORS, PRIMITIVES, Primitive

__all__ = [
    "Const", "Var", "Call", "Expr", "ExprError", "DomainError", "parse", "fold", "walk",
    "variables", "evaluate", "apply", "NAME_RE", "valid_name_reason", "MAX_NESTING",
]


@dataclass(frozen=True, slots=True)
class Const:
    """A number written in an expression."""

    value: float


@dataclass(frozen=True, slots=True)
class Var:
    """A name: an input or another node."""

    name: str
    column: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Call:
    """An operation from the table of primitives applied to operands."""

    op: str
    args: tuple["Expr", ...]


Expr = Union[Const, Var, Call]

NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
#: Deepest nesting the parser accepts (Python's own parser stops at 200 parentheses).
MAX_NESTING = 200
# Longer texts are parsed on a thread with a large stack: CPython's parser recurses once per
# operator of a long sum and would otherwise hit the recursion limit.
_LONG_TEXT = 2000
_RESERVED = {"math", "torch", "e", "pi"}


class ExprError(Exception):
    """An expression that is not one tracer accepts; ``column`` is 1-based where known."""

    def __init__(self, message: str, column: Optional[int] = None):
        super().__init__(message)
        self.message = message
        self.column = column


class DomainError(Exception):
    """An operation undefined at its operands (division by zero, log of a negative, ...)."""

    def __init__(self, op: str, operands: tuple[float, ...], reason: str):
        super().__init__(reason)
        self.op = op
        self.operands = operands
        self.reason = reason


def valid_name_reason(name: str) -> Optional[str]:
    """Why ``name`` cannot name an input or a node, or ``None`` if it can."""
    if not NAME_RE.match(name):
        return "a name is letters, digits and underscores, starting with a letter"
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        return "it is a Python keyword"
    if name in PRIMITIVES:
        return f"it is the name of the function {name}()"
    if name in _RESERVED:
        return "it is reserved for generated code"
    return None


# ----------------------------------------------------------------------------- parsing

_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_NOT_EXPRESSIONS = {
    ast.Attribute: "attribute access ('.') is not allowed",
    ast.Subscript: "subscripts ('[...]') are not allowed",
    ast.Lambda: "lambda is not allowed",
    ast.ListComp: "comprehensions are not allowed",
    ast.SetComp: "comprehensions are not allowed",
    ast.DictComp: "comprehensions are not allowed",
    ast.GeneratorExp: "comprehensions are not allowed",
    ast.JoinedStr: "strings (f-strings) are not allowed",
    ast.NamedExpr: "assignment (':=') is not allowed",
    ast.Compare: "comparisons are not allowed",
    ast.BoolOp: "'and'/'or' are not allowed",
    ast.IfExp: "conditional expressions are not allowed",
    ast.List: "lists are not allowed",
    ast.Tuple: "tuples are not allowed: a node is one expression",
    ast.Set: "sets are not allowed",
    ast.Dict: "dictionaries are not allowed",
    ast.Starred: "'*' unpacking is not allowed",
    ast.Await: "'await' is not allowed",
    ast.Yield: "'yield' is not allowed",
    ast.YieldFrom: "'yield' is not allowed",
}
_HINT = ("an expression uses numbers, names, + - * / **, parentheses and the functions "
         + ", ".join(sorted(n for n, p in FUNCTIONS.items() if not p.helper)))


def parse(text: str) -> Expr:
    """Parse one expression; raise :class:`ExprError` with a column for anything else."""
    if not isinstance(text, str):
        raise ExprError("an expression must be text")
    source = " ".join(text.split("\n")).strip()
    if not source:
        raise ExprError("the expression is empty")
    quick = _parse_one_operation(source)
    if quick is not None:
        return quick
    tree = _ast_parse(source)
    return _convert(tree.body)


# Most nodes of a large problem are one operation on names and numbers (``u1 * x2``,
# ``tanh(u3)``).  These are read with one regular expression, a fifth of the time of
# ``ast.parse``; anything else, and every mistake, goes to the full parser, which gives
# the same tree.  Only forms whose value Python reads exactly as ``float`` does are taken:
# ASCII names that are not keywords, decimal numbers (an integer without leading zeros, at
# most 300 digits, or a float with a point or an exponent), single spaces or none.
_OPERAND = (r"(?:([A-Za-z_][A-Za-z0-9_]*)|((?:[1-9][0-9]{0,299}|0+)(?![0-9.eE])"
            r"|(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|[0-9]+[eE][-+]?[0-9]+))")
_ONE_OPERATION = re.compile(
    rf"{_OPERAND}(?: ?(\*\*|[-+*/]) ?{_OPERAND})?\Z"
    rf"|([A-Za-z_][A-Za-z0-9_]*)\( ?{_OPERAND} ?(?:, ?{_OPERAND} ?)?\)\Z")


def _parse_one_operation(source: str) -> Optional[Expr]:
    """``a op b``, ``f(a)``, ``f(a, b)``, a name or a number, or ``None`` for anything else."""
    m = _ONE_OPERATION.match(source)
    if m is None:
        return None
    if m.group(6) is None:              # a op b, or a lone operand
        first = _operand(m, 1)
        if m.group(3) is None:
            return first
        second = _operand(m, 4)
        if first is None or second is None:
            return None
        return Call(OPERATORS[m.group(3)], (first, second))
    prim = FUNCTIONS.get(m.group(6))
    if prim is None or keyword.iskeyword(m.group(6)):
        return None
    args = [_operand(m, 7)] if m.group(9) is None and m.group(10) is None \
        else [_operand(m, 7), _operand(m, 9)]
    if len(args) != prim.arity or None in args:
        return None
    return Call(prim.name, tuple(args))  # type: ignore[arg-type]


def _operand(m: re.Match, group: int) -> Optional[Expr]:
    """The name (group) or the number (group + 1) matched, or ``None`` where the full
    parser must decide (a keyword, a number too large for a float)."""
    name = m.group(group)
    if name is not None:
        return None if keyword.iskeyword(name) else Var(name, m.start(group) + 1)
    value = float(m.group(group + 1))
    return Const(value) if math.isfinite(value) else None


def _ast_parse(source: str) -> ast.Expression:
    if len(source) <= _LONG_TEXT:
        return _ast_parse_here(source)
    result: dict = {}

    def work() -> None:
        try:
            result["tree"] = _ast_parse_here(source)
        except BaseException as exc:  # handed back to the calling thread below
            result["error"] = exc

    # The recursion limit is per interpreter: raise it only while the big-stack thread runs
    # (the caller waits), so no other code ever recurses that deep on a normal stack.
    old_stack, old_limit = threading.stack_size(), sys.getrecursionlimit()
    threading.stack_size(min(1 << 30, 64 * 1024 * 1024 + 4096 * len(source)))
    try:
        worker = threading.Thread(target=work, name="tracer-parse")
        sys.setrecursionlimit(max(old_limit, 4 * len(source) + 1000))
        worker.start()
        worker.join()
    finally:
        sys.setrecursionlimit(old_limit)
        threading.stack_size(old_stack)
    if "error" in result:
        raise result["error"]
    return result["tree"]


def _ast_parse_here(source: str) -> ast.Expression:
    try:
        return ast.parse(source, mode="eval")
    except SyntaxError as exc:
        msg = exc.msg or "syntax error"
        if "too many nested parentheses" in msg:
            raise ExprError(f"the expression is nested too deeply (more than {MAX_NESTING} "
                            "levels of parentheses): split it into several nodes", exc.offset)
        raise ExprError(f"syntax error: {msg}", exc.offset) from None
    except (RecursionError, MemoryError):
        raise ExprError("the expression is nested too deeply: split it into several nodes")
    except ValueError as exc:  # e.g. an integer literal with more than 4300 digits
        raise ExprError(f"the expression cannot be read: {exc}") from None


def _convert(root: ast.AST) -> Expr:
    """ast -> Expr, bottom-up with an explicit stack, checking every node against the whitelist."""
    stack: list[tuple[ast.AST, bool]] = [(root, False)]
    done: list[Expr] = []
    depth = 0
    while stack:
        node, children_done = stack.pop()
        column = getattr(node, "col_offset", -1) + 1 or None
        if children_done:
            n = len(_children(node))
            args = tuple(done[len(done) - n:]) if n else ()
            del done[len(done) - n:]
            done.append(_build(node, args, column))
            depth -= 1
            continue
        _check(node, column)
        kids = _children(node)
        if kids:
            depth += 1
            if depth > 100_000_000:  # pragma: no cover - bounded by the parser itself
                raise ExprError("the expression is nested too deeply")
            stack.append((node, True))
            stack.extend((k, False) for k in reversed(kids))
        else:
            done.append(_build(node, (), column))
    return done[0]


def _children(node: ast.AST) -> list[ast.AST]:
    if isinstance(node, ast.BinOp):
        return [node.left, node.right]
    if isinstance(node, ast.UnaryOp):
        return [node.operand]
    if isinstance(node, ast.Call):
        return list(node.args)
    return []


def _check(node: ast.AST, column: Optional[int]) -> None:
    for kind, why in _NOT_EXPRESSIONS.items():
        if isinstance(node, kind):
            raise ExprError(f"{why}: {_HINT}", column)
    if isinstance(node, ast.BinOp) and type(node.op) not in _BINOPS:
        symbol = {ast.Mod: "%", ast.FloorDiv: "//", ast.MatMult: "@", ast.BitAnd: "&",
                  ast.BitOr: "|", ast.BitXor: "^", ast.LShift: "<<", ast.RShift: ">>"}
        sym = symbol.get(type(node.op), type(node.op).__name__)
        hint = " (for a power write **)" if sym == "^" else ""
        raise ExprError(f"the operator '{sym}' is not supported{hint}: use + - * / **", column)
    if isinstance(node, ast.UnaryOp) and not isinstance(node.op, (ast.USub, ast.UAdd)):
        raise ExprError("only unary minus and plus are supported", column)
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name):
            why = _NOT_EXPRESSIONS.get(type(node.func), "only the functions of the table can "
                                       "be called")
            raise ExprError(f"{why}: {_HINT}", column)
        name = node.func.id
        prim = FUNCTIONS.get(name)
        if prim is None:
            raise ExprError(f"unknown function '{name}'{did_you_mean(name, FUNCTIONS)}; "
                            f"{_HINT}", column)
        if node.keywords:
            raise ExprError(f"{name}() takes no keyword arguments", column)
        if len(node.args) != prim.arity:
            plural = "s" if prim.arity != 1 else ""
            raise ExprError(f"{name}() takes {prim.arity} argument{plural}, "
                            f"got {len(node.args)}", column)
    if isinstance(node, ast.Constant):
        v = node.value
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            what = {str: "strings", bytes: "bytes", bool: "booleans", complex: "complex numbers",
                    type(None): "None", type(...): "'...'"}.get(type(v), type(v).__name__)
            raise ExprError(f"{what} are not numbers: {_HINT}", column)
    elif not isinstance(node, (ast.BinOp, ast.UnaryOp, ast.Call, ast.Name, ast.Constant)):
        raise ExprError(f"'{type(node).__name__}' is not part of an expression: {_HINT}", column)


def _build(node: ast.AST, args: tuple[Expr, ...], column: Optional[int]) -> Expr:
    if isinstance(node, ast.Constant):
        try:
            value = float(node.value)
        except OverflowError:
            raise ExprError("the number is too large for a floating-point number", column)
        if not math.isfinite(value):
            raise ExprError("the number is too large for a floating-point number", column)
        return Const(value)
    if isinstance(node, ast.Name):
        return Var(node.id, column or 0)
    if isinstance(node, ast.BinOp):
        return Call(OPERATORS[_BINOPS[type(node.op)]], args)
    if isinstance(node, ast.UnaryOp):
        (operand,) = args
        if isinstance(node.op, ast.UAdd):
            return operand
        if isinstance(operand, Const):  # -3 is a number, not an operation
            return Const(-operand.value)
        return Call("neg", args)
    assert isinstance(node, ast.Call)
    return Call(node.func.id, args)  # type: ignore[attr-defined]


# ----------------------------------------------------------------------------- walking

def fold(expr: Expr, leaf: Callable[[Union[Const, Var]], object],
         call: Callable[[Call, list], object]) -> object:
    """Bottom-up evaluation of ``expr`` without recursion."""
    if not isinstance(expr, Call):
        return leaf(expr)
    stack: list[tuple[Expr, bool]] = [(expr, False)]
    out: list = []
    while stack:
        node, children_done = stack.pop()
        if isinstance(node, Call):
            if children_done:
                n = len(node.args)
                args = out[len(out) - n:]
                del out[len(out) - n:]
                out.append(call(node, args))
            else:
                stack.append((node, True))
                stack.extend((a, False) for a in reversed(node.args))
        else:
            out.append(leaf(node))
    return out[0]


def walk(expr: Expr) -> Iterator[Expr]:
    """Every sub-expression, parents before children, left to right."""
    stack = [expr]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, Call):
            stack.extend(reversed(node.args))


def variables(expr: Expr) -> list[Var]:
    """The names used, in order of occurrence, repeats included."""
    return [n for n in walk(expr) if isinstance(n, Var)]


def apply(prim: Primitive, operands: tuple[float, ...]) -> float:
    """``prim.forward`` on ``operands``, raising :class:`DomainError` where it is undefined."""
    if prim.domain is not None:
        reason = prim.domain(*operands)
        if reason:
            raise DomainError(prim.name, operands, reason)
    try:
        value = prim.forward(*operands)
    except OverflowError:
        raise DomainError(prim.name, operands, "overflow: the result is too large for a "
                          "floating-point number") from None
    except (ValueError, ZeroDivisionError) as exc:
        raise DomainError(prim.name, operands, str(exc)) from None
    if not math.isfinite(value):
        raise DomainError(prim.name, operands, "overflow: the result is too large for a "
                          "floating-point number" if math.isinf(value) else
                          "the result is not a number (NaN)")
    return float(value)


def evaluate(expr: Expr, env: dict[str, float]) -> float:
    """The value of ``expr`` with names looked up in ``env``."""
    return fold(expr,
                lambda leaf: leaf.value if isinstance(leaf, Const) else env[leaf.name],
                lambda node, args: apply(PRIMITIVES[node.op], tuple(args)))  # type: ignore
