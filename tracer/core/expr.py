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
import unicodedata
from dataclasses import dataclass, field
from typing import Callable, Iterator, Optional, Union

from .primitives import FUNCTIONS, OPERATORS, PRIMITIVES, Primitive
from .suggest import close_match, function_instead, keyword_used, name_instead, \
    number_before_name
from .tensor_ops import TENSOR_FUNCTIONS, TENSOR_OPERATORS
from .text import MAX_NAME, char_name, quote

__all__ = ["Const", "Var", "Call", "Expr", "ExprError", "DomainError", "parse", "fold", "walk",
           "variables", "evaluate", "defined", "apply", "NAME_RE", "valid_name_reason",
           "MAX_NESTING"]


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


class ExprError(Exception):
    """An expression that is not one tracer accepts; ``column`` is 1-based where known;
    ``name``: the name it is about when the name itself cannot be used (a keyword, a
    Greek letter), so that a file that also defines that name is told once."""

    def __init__(self, message: str, column: Optional[int] = None,
                 name: Optional[str] = None):
        super().__init__(message)
        self.message = message
        self.column = column
        self.name = name


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
        return "a name is ASCII letters, digits and underscores, starting with a letter" \
            + _instead(name)
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        return "it is a Python keyword" + _instead(name)
    if name in PRIMITIVES:
        return f"it is the name of the function {name}()"
    return None


def _instead(name: str) -> str:
    """What to name ``name`` instead, as the end of a message: Greek letters and the
    keyword lambda by their ASCII names, which are typeset as the letters."""
    instead = name_instead(name)
    if instead is None:
        return ""
    if instead.rstrip("_") == "lambda":
        return f"; write '{instead}' instead, which is typeset as λ"
    if any(unicodedata.name(ch, "").startswith("GREEK") for ch in name):
        return (f"; write '{instead}' instead (names are ASCII, and the name of a Greek "
                "letter is typeset as the letter)")
    return f"; write '{instead}' instead"


# ----------------------------------------------------------------------------- parsing

_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**",
           ast.MatMult: "@"}
# The operators and functions of vectors and matrices (tracer.core.tensor_ops) beside the
# table of primitives.
_OPERATOR_NAMES = {**OPERATORS, **TENSOR_OPERATORS}
_CALLABLE = {**FUNCTIONS, **TENSOR_FUNCTIONS}
_NOT_EXPRESSIONS = {
    ast.Attribute: "attribute access ('.') is not allowed",
    ast.Subscript: "subscripts ('[...]') are not allowed",
    ast.Lambda: "lambda is not allowed",
    **dict.fromkeys((ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp),
                    "comprehensions are not allowed"),
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
         + ", ".join(sorted(n for n, p in FUNCTIONS.items() if not p.helper))
         + "; with vectors and matrices also @ and "
         + ", ".join(sorted(n for n, p in TENSOR_FUNCTIONS.items() if not p.helper)))


def parse(text: str) -> Expr:
    """Parse one expression; raise :class:`ExprError` with a column for anything else."""
    if not isinstance(text, str):
        raise ExprError("an expression must be text")
    source = " ".join(text.split("\n")).strip()
    if not source:
        raise ExprError("the expression is empty")
    _refuse_non_ascii(source)
    if (quick := _parse_one_operation(source)) is not None:
        return quick
    tree = _ast_parse(source)
    return _convert(tree.body, None if source.isascii() else source.encode("utf-8"))


def _typeset_letter(ch: str) -> bool:
    """Whether ``ch`` is a character an author types for how it looks in print: a Greek
    letter, a sub- or superscript, the micro sign."""
    name = unicodedata.name(ch, "")
    return not ch.isascii() and ("GREEK" in name or "SCRIPT" in name or name == "MICRO SIGN")


def _refuse_non_ascii(source: str) -> None:
    """Names are ASCII everywhere.  Python's parser would read a full-width ｘ as x (it
    normalises names to NFKC) while the same ｘ is refused as the name of an input: one
    rule for both, and a clear word on characters such as the minus sign U+2212."""
    if source.isascii():
        return
    at = next(i for i, ch in enumerate(source) if not ch.isascii())
    ch = source[at]
    start, end = at, at + 1      # the name the character is part of
    while start > 0 and (source[start - 1].isalnum() or source[start - 1] == "_"):
        start -= 1
    while end < len(source) and (source[end].isalnum() or source[end] == "_"):
        end += 1
    name = source[start:end]
    if any(_typeset_letter(c) for c in name) and name_instead(name) is not None:
        # A Greek letter or a subscript typed as such: the name that is typeset as it.
        raise ExprError(f"'{name}' cannot be a name: a name is ASCII letters, digits and "
                        f"underscores{_instead(name)}", start + 1,
                        name=unicodedata.normalize("NFKC", name))
    plain = unicodedata.normalize("NFKC", ch)
    hint = f" (write '{plain}')" if plain.isascii() and plain.strip() else \
        " (write - for a minus sign)" if ch == "\u2212" else \
        " (write * for a product)" if ch in "\u00d7\u00b7\u22c5" else ""
    raise ExprError(f"the character '{quote(ch)}' ({char_name(ch)}) cannot be part of an "
                    f"expression{hint}: names and numbers are written with ASCII letters, "
                    "digits and _", at + 1)


# Most nodes of a large problem are one operation on names and numbers (``u1 * x2``): one
# regular expression reads them in a fifth of the time of ``ast.parse``; anything else, and
# every mistake, goes to the full parser (the same tree).  Only forms Python reads exactly
# as ``float`` does: ASCII non-keyword names, plain decimals, single spaces or none.
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
    """The name (group) or number (group + 1); ``None`` leaves it to the full parser."""
    name = m.group(group)
    if name is not None:
        return None if keyword.iskeyword(name) or len(name) > MAX_NAME \
            else Var(name, m.start(group) + 1)
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
        _explain_syntax_error(source)
        raise ExprError(f"syntax error: {msg}", exc.offset) from None
    except (RecursionError, MemoryError):
        raise ExprError("the expression is nested too deeply: split it into several nodes")
    except ValueError as exc:  # e.g. an integer literal with more than 4300 digits
        raise ExprError(f"the expression cannot be read: {exc}") from None


def _explain_syntax_error(source: str) -> None:
    """Raise the error an author can act on, for the usual causes of a syntax error."""
    found = number_before_name(source)
    if found is not None:
        column, number, name = found
        raise ExprError(f"'{number}{name}' is a number written right before a name: "
                        f"write {number}*{name} (multiplication needs *)", column + 1)
    for match in re.finditer(r"[^\s+\-*/(),.]+", source):
        word = match.group(0)
        if not word.isascii() and name_instead(word) is not None:
            name = unicodedata.normalize("NFKC", word)
            raise ExprError(f"'{word}' cannot be a name: a name is ASCII letters, digits and "
                            f"underscores{_instead(word)}", match.start() + 1, name=name)
    used = keyword_used(source)
    if used is not None:
        column, word = used
        raise ExprError(f"'{word}' is a Python keyword, so it cannot be a name"
                        + _instead(word), column + 1, name=word)


def _convert(root: ast.AST, encoded: Optional[bytes] = None) -> Expr:
    """ast -> Expr, bottom-up with an explicit stack, checking every node against the
    whitelist.  ``encoded``: the source as UTF-8 when it is not ASCII (the parser's
    columns count bytes; the messages count characters)."""
    stack: list[tuple[ast.AST, bool]] = [(root, False)]
    done: list[Expr] = []
    depth = 0
    while stack:
        node, children_done = stack.pop()
        column = getattr(node, "col_offset", -1) + 1 or None
        if encoded is not None and column:
            column = len(encoded[:column - 1].decode("utf-8", errors="ignore")) + 1
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
        raise ExprError(f"the operator '{sym}' is not supported{hint}: use + - * / ** "
                        "(and @ between vectors and matrices)", column)
    if isinstance(node, ast.UnaryOp) and not isinstance(node.op, (ast.USub, ast.UAdd)):
        raise ExprError("only unary minus and plus are supported", column)
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name):
            why = _NOT_EXPRESSIONS.get(type(node.func))
            if why is None:
                # 2(x + 1), (a + b)(a - b): a product written without its *
                raise ExprError("a number or a closing parenthesis right before '(' reads as "
                                "a call: to multiply, write * between them, e.g. "
                                "2 * (x + 1)", column)
            raise ExprError(f"{why}: {_HINT}", column)
        name = node.func.id
        prim = _CALLABLE.get(name)
        if prim is None:
            raise ExprError(_unknown_function(name), column)
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


def _unknown_function(name: str) -> str:
    instead = function_instead(name)
    if instead is not None:
        return f"there is no function '{name}': {instead}"
    close = close_match(name, _CALLABLE)
    if close is not None:
        return f"unknown function '{name}' - did you mean '{close}'?"
    return (f"unknown function '{name}' (to multiply by {name}, write {name} * (...)); "
            f"{_HINT}")


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
        if len(node.id) > MAX_NAME:
            raise ExprError(f"the name '{quote(node.id)}' is too long: a name has at most "
                            f"{MAX_NAME} characters", column)
        if not NAME_RE.match(node.id):
            raise ExprError(f"'{node.id}' cannot be a name: a name is ASCII letters, digits "
                            f"and underscores{_instead(node.id)}", column, name=node.id)
        return Var(node.id, column or 0)
    if isinstance(node, ast.BinOp):
        return Call(_OPERATOR_NAMES[_BINOPS[type(node.op)]], args)
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


def defined(expr: Expr, env: dict[str, float]) -> bool:
    """Whether ``expr`` can be evaluated at ``env``: a local derivative's formula cannot be
    where the engine took its value as a limit (``y * log(x)`` of ``y = x ** k`` at 0)."""
    try:
        evaluate(expr, env)
    except (DomainError, KeyError):
        return False
    return True


def evaluate(expr: Expr, env: dict[str, float]) -> float:
    """The value of ``expr`` with names looked up in ``env``."""
    return fold(expr,
                lambda leaf: leaf.value if isinstance(leaf, Const) else env[leaf.name],
                lambda node, args: apply(PRIMITIVES[node.op], tuple(args)))  # type: ignore
