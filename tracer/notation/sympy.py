"""The SymPy bridge, for what SymPy does better than we would: the local derivatives of a
gate made of several operations (``C: 0.5 * (y - a)**2`` -> ``a - y``) and the closed form
of a whole gradient (``2 x cos(x^2)``), and their LaTeX and Python.  Numbers never come from
here: they come from the table of primitives.  SymPy is imported on first use.

``TABLE`` has one entry per primitive: the operation in SymPy (``sp`` is :func:`namespace`:
SymPy plus the functions of the table that SymPy lacks).  Imports only :mod:`tracer.core`
and the rest of notation.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Optional

from ..core.expr import Call, Expr, Var, fold, walk
from .latex import tex_symbol

__all__ = ["TABLE", "too_large", "derivatives", "Derivative", "derivative_latex",
           "derivative_python", "latex", "python_text", "closed_forms", "ClosedForms",
           "MAX_SYMBOLIC_OPS", "MAX_CLOSED_FORM_OPS", "MAX_CLOSED_FORM_SIZE"]

#: Gates and graphs larger than this get no symbolic formula (SymPy's cost grows fast).
MAX_SYMBOLIC_OPS = 200
#: Graphs with more operations than this get no closed form: past it the formula no longer
#: teaches anything (it fills lines) and SymPy's time grows fast.
MAX_CLOSED_FORM_OPS = 30
#: Closed forms are left out when a formula, written out, would have more parts (symbols,
#: numbers and operations) than this.  Few operations can make a huge formula: in
#: u_k = u_{k-1} * sin(u_{k-1}) each node writes its predecessor out twice, so 15 nodes
#: make a formula of 2^15 parts (54 MB of LaTeX, minutes of SymPy).  The bound is on the
#: formula, not on time, so that two builds of a problem still give the same pages.
MAX_CLOSED_FORM_SIZE = 400


def _power(tex: str, exp: Optional[str]) -> str:
    # SymPy asks a function for its LaTeX with the exponent when it is raised to a power.
    return tex if exp is None else r"\left(" + tex + r"\right)^{" + exp + "}"


def _one(sp, name: str, value, derivative, before: str, after: str, **assumptions):
    """A SymPy function of one argument that SymPy lacks: its value at a number, its
    derivative, and its LaTeX (the argument between ``before`` and ``after``)."""
    def eval(cls, x):
        if x.is_number:
            return value(x)

    def fdiff(self, argindex=1):
        return derivative(self.args[0])

    def latex(self, printer, exp=None):
        return _power(before + printer._print(self.args[0]) + after, exp)

    return type(name, (sp.Function,), dict(eval=classmethod(eval), fdiff=fdiff, _latex=latex,
                                            **assumptions))


def _several(sp, name: str, value, derivatives, written, **assumptions):
    """A SymPy function of several arguments that SymPy lacks: its value at numbers, its
    partial derivatives (one function of the arguments per argument) and its LaTeX
    (``written``, a function of the arguments' LaTeX)."""
    def eval(cls, *args):
        if all(a.is_number for a in args):
            return value(*args)

    def fdiff(self, argindex=1):
        return derivatives[argindex - 1](*self.args)

    def latex(self, printer, exp=None):
        return _power(written(*(printer._print(a) for a in self.args)), exp)

    return type(name, (sp.Function,), dict(nargs=len(derivatives), eval=classmethod(eval),
                                            fdiff=fdiff, _latex=latex, **assumptions))


def _pick(sp, name: str, first: int):
    """max or min, kept as written: SymPy's Max(x, Max(x, y)) becomes Max(x, y), whose
    derivative at a tie is not the one the table's rule gives the gate as written."""
    def eval(cls, a, b):
        if a.is_number and b.is_number:
            return (sp.Max if name == "max" else sp.Min)(a, b)

    def fdiff(self, argindex=1):
        a, b = self.args
        sign = 1 if (argindex == 1) == (first == 1) else -1
        return sp.Heaviside(sign * (a - b), sp.Rational(1, 2))

    def latex(self, printer, exp=None):
        inner = ", ".join(printer._print(arg) for arg in self.args)
        return _power(rf"\{name}\left({inner}\right)", exp)

    return type(name, (sp.Function,), dict(nargs=2, is_real=True, eval=classmethod(eval),
                                            fdiff=fdiff, _latex=latex))


@lru_cache(maxsize=None)
def namespace():
    """SymPy plus the functions of the table SymPy lacks (sigmoid, softplus, relu,
    leaky_relu, clip, step, and max and min kept as written)."""
    import sympy as sp

    def logistic(x):
        s = sigmoid(x)
        return s * (1 - s)

    sigmoid = _one(sp, "sigmoid", lambda x: 1 / (1 + sp.exp(-x)), logistic,
                   r"\sigma\left(", r"\right)", is_real=True, is_positive=True)
    softplus = _one(sp, "softplus", lambda x: sp.log(1 + sp.exp(x)), lambda x: sigmoid(x),
                    r"\operatorname{softplus}\left(", r"\right)", is_real=True,
                    is_positive=True)
    step = _one(sp, "step", lambda x: sp.Integer(1 if float(x) > 0 else 0),
                lambda x: sp.Integer(0), r"\mathbf{1}\left[", r" > 0\right]", is_real=True,
                is_nonnegative=True)
    relu = _one(sp, "relu", lambda x: sp.Max(x, 0), lambda x: step(x),
                r"\operatorname{relu}\left(", r"\right)", is_real=True, is_nonnegative=True)

    # The table's rules, written with its step: the same derivatives at the kinks too.
    leaky_relu = _several(
        sp, "leaky_relu", lambda a, b: a if a.is_positive else b * a,
        (lambda a, b: step(a) + b * (1 - step(a)), lambda a, b: a * (1 - step(a))),
        lambda a, b: rf"\operatorname{{lrelu}}_{{{b}}}\left({a}\right)", is_real=True)
    clip = _several(
        sp, "clip", lambda a, b, c: sp.Min(sp.Max(a, b), c),
        (lambda a, b, c: (1 - step(b - a)) * (1 - step(a - c)), lambda a, b, c: step(b - a),
         lambda a, b, c: step(a - c)),
        lambda a, b, c: rf"\operatorname{{clip}}\left({a}, {b}, {c}\right)", is_real=True)

    class Namespace:
        def __getattr__(self, name):
            return getattr(sp, name)

    ns = Namespace()
    ns.sigmoid, ns.softplus, ns.relu, ns.step = sigmoid, softplus, relu, step
    ns.leaky_relu, ns.clip = leaky_relu, clip
    ns.max, ns.min = _pick(sp, "max", 1), _pick(sp, "min", 2)
    return ns


TABLE = {
    "add": lambda sp, a, b: a + b,
    "sub": lambda sp, a, b: a - b,
    "mul": lambda sp, a, b: a * b,
    "div": lambda sp, a, b: a / b,
    "pow": lambda sp, a, b: a ** b,
    "neg": lambda sp, a: -a,
    "exp": lambda sp, a: sp.exp(a),
    "log": lambda sp, a: sp.log(a),
    "sin": lambda sp, a: sp.sin(a),
    "cos": lambda sp, a: sp.cos(a),
    "tan": lambda sp, a: sp.tan(a),
    "tanh": lambda sp, a: sp.tanh(a),
    "sigmoid": lambda sp, a: sp.sigmoid(a),
    "softplus": lambda sp, a: sp.softplus(a),
    "relu": lambda sp, a: sp.relu(a),
    "leaky_relu": lambda sp, a, b: sp.leaky_relu(a, b),
    "clip": lambda sp, a, b, c: sp.clip(a, b, c),
    "sqrt": lambda sp, a: sp.sqrt(a),
    "abs": lambda sp, a: sp.Abs(a),
    "max": lambda sp, a, b: sp.max(a, b),
    "min": lambda sp, a, b: sp.min(a, b),
    "step": lambda sp, a: sp.step(a),
    "sign": lambda sp, a: sp.sign(a),
    "heaviside": lambda sp, a: sp.Heaviside(a, sp.Rational(1, 2)),
}


def _ops(expr: Expr) -> int:
    return sum(1 for n in walk(expr) if isinstance(n, Call))


def too_large(expr: Expr) -> bool:
    """Whether ``expr`` has more operations than SymPy is asked to handle."""
    count = 0
    for n in walk(expr):
        count += isinstance(n, Call)
        if count > MAX_SYMBOLIC_OPS:
            return True
    return False


def to_sympy(expr: Expr, symbols: dict, formulas: Optional[dict] = None):
    """``expr`` as a SymPy expression; numbers written as decimals stay exact rationals.
    A name with an entry in ``formulas`` stands for that formula, any other for a symbol."""
    sp = namespace()

    def leaf(node):
        if isinstance(node, Var):
            if formulas is not None and node.name in formulas:
                return formulas[node.name]
            if node.name not in symbols:
                symbols[node.name] = sp.Symbol(node.name, real=True)
            return symbols[node.name]
        return sp.Rational(repr(node.value)) if node.value != int(node.value) \
            else sp.Integer(int(node.value))

    return fold(expr, leaf, lambda node, args: TABLE[node.op](sp, *args))


def latex(value, names: Iterable[str]) -> str:
    """LaTeX of a SymPy expression, its symbols ``names`` written as tracer writes names."""
    sp = namespace()
    return _latex_of(value, {sp.Symbol(n, real=True): tex_symbol(n) for n in names})


def _latex_of(value, symbol_names: dict) -> str:
    sp = namespace()
    # SymPy writes Heaviside as theta; the table (and most courses) write H.
    return sp.latex(value, symbol_names=symbol_names, ln_notation=True).replace(
        r"\theta\left(", r"H\left(")


def _diff(expr, symbol):
    """d expr / d symbol, with the table's convention that step, sign and heaviside have
    derivative 0 (SymPy would write Dirac deltas, which no worked example uses)."""
    sp = namespace()
    return sp.diff(expr, symbol).replace(sp.DiracDelta, lambda *args: sp.Integer(0))


@dataclass(frozen=True, eq=False)
class Derivative:
    """d(gate)/d(operand) as SymPy derives it.  Gates of one shape share their derivation
    and its printing (:class:`_Shape`); ``names`` are this gate's names in the order of
    the shape's placeholders."""

    shape: "_Shape"
    index: int
    names: tuple[str, ...]

    @property
    def value(self):
        """The SymPy expression, in the gate's own names."""
        sp = namespace()
        back = {sp.Symbol(_placeholder(i), real=True): sp.Symbol(name, real=True)
                for i, name in enumerate(self.names)}
        return self.shape.derived[self.index].xreplace(back)


def _placeholder(i: int) -> str:
    return f"p{i:04d}"


def _use(j: int) -> str:
    # A name's j-th use in a gate that uses a name several times: differentiated on its own,
    # then replaced by the name's placeholder.
    return f"q{j:04d}"


_PLACEHOLDER = re.compile(r"\bp(\d{4})\b")
# SymPy's LaTeX printer writes a product's factors with a dot between them where one ends
# with a digit and the next starts with one: a name's stand-in must end the way it does.
_ENDS_IN_DIGIT = re.compile(r"[0-9][} ]*$")


class _Shape:
    """A gate's expression with its names replaced by placeholders that sort as the names
    do (so SymPy orders terms alike), derived once and printed once per operand."""

    def __init__(self, expr: Expr, count: int, digit_ends: tuple[bool, ...],
                 uses: Optional[tuple[int, ...]] = None):
        symbols: dict = {}
        gate = to_sympy(expr, symbols)
        if uses is None:
            self.derived = tuple(_diff(gate, symbols[_placeholder(i)]) for i in range(count))
        else:
            # uses[j]: the name (its placeholder's number) of the j-th use
            sp = namespace()
            names = {symbols[_use(j)]: sp.Symbol(_placeholder(k), real=True)
                     for j, k in enumerate(uses)}
            self.derived = tuple(_diff(gate, symbols[_use(j)]).xreplace(names)
                                 for j in range(len(uses)))
        self.digit_ends = digit_ends
        self._latex: dict[int, str] = {}
        self._python: dict[int, str] = {}

    def marker(self, i: int) -> str:
        return f"\x00{i}\x00" + ("0}" if self.digit_ends[i] else "")

    def latex(self, index: int) -> str:
        if index not in self._latex:
            sp = namespace()
            names = {sp.Symbol(_placeholder(i), real=True): self.marker(i)
                     for i in range(len(self.digit_ends))}
            self._latex[index] = _latex_of(self.derived[index], names)
        return self._latex[index]

    def python(self, index: int) -> str:
        if index not in self._python:
            self._python[index] = _python_printer().doprint(self.derived[index])
        return self._python[index]


def derivatives(expr: Expr, operands: tuple[str, ...]) -> Optional[tuple[Derivative, ...]]:
    """d(expr)/d(name) for each name in ``operands``, or ``None`` if ``expr`` is too large.

    ``operands`` are the names of ``expr`` in the order written, one entry per use: where a
    name is used several times (``a * a + a``), each use has its own derivative, the other
    uses held fixed (``a + 1``, ``a`` and ``1``).  Gates of the same shape
    (``sigmoid(w * u1 + b)``, ``sigmoid(w * u2 + b)``) are derived and printed once: the
    shape with its names replaced, then the names put back."""
    if too_large(expr):
        return None
    if len(set(operands)) < len(operands):
        return _derivatives_per_use(expr, operands)
    ranked = sorted(operands)
    rename = {name: _placeholder(ranked.index(name)) for name in operands}
    canonical = fold(expr, lambda leaf: Var(rename[leaf.name]) if isinstance(leaf, Var)
                     else leaf, lambda node, args: Call(node.op, tuple(args)))
    digit_ends = tuple(bool(_ENDS_IN_DIGIT.search(tex_symbol(n))) for n in ranked)
    shape = _shape(canonical, len(operands), digit_ends)
    names = tuple(ranked)
    return tuple(Derivative(shape, ranked.index(name), names) for name in operands)


def _derivatives_per_use(expr: Expr, operands: tuple[str, ...]) -> tuple[Derivative, ...]:
    ranked = sorted(set(operands))
    rank = {name: i for i, name in enumerate(ranked)}
    count = iter(range(len(operands)))
    canonical = fold(expr, lambda leaf: Var(_use(next(count))) if isinstance(leaf, Var)
                     else leaf, lambda node, args: Call(node.op, tuple(args)))
    digit_ends = tuple(bool(_ENDS_IN_DIGIT.search(tex_symbol(n))) for n in ranked)
    shape = _shape(canonical, len(ranked), digit_ends, tuple(rank[n] for n in operands))
    return tuple(Derivative(shape, j, tuple(ranked)) for j in range(len(operands)))


@lru_cache(maxsize=4096)
def _shape(expr: Expr, count: int, digit_ends: tuple[bool, ...],
           uses: Optional[tuple[int, ...]] = None) -> _Shape:
    return _Shape(expr, count, digit_ends, uses)


def derivative_latex(d: Derivative) -> str:
    """LaTeX of a derivative, in its gate's names."""
    text = d.shape.latex(d.index)
    for i, name in enumerate(d.names):
        text = text.replace(d.shape.marker(i), tex_symbol(name))
    return text


def derivative_python(d: Derivative) -> str:
    """Python source of a derivative, in its gate's names."""
    return _PLACEHOLDER.sub(lambda m: d.names[int(m.group(1))], d.shape.python(d.index))


def python_text(value) -> str:
    """Python source of a SymPy expression (functions by their table names: ``sigmoid``,
    ``heaviside``, ``abs``, ``max``)."""
    return _python_printer().doprint(value)


@lru_cache(maxsize=None)
def _python_printer():
    from sympy.printing.str import StrPrinter

    class Printer(StrPrinter):
        def _print_Abs(self, e):
            return f"abs({self._print(e.args[0])})"

        def _print_Max(self, e):
            return "max(" + ", ".join(self._print(a) for a in e.args) + ")"

        def _print_Min(self, e):
            return "min(" + ", ".join(self._print(a) for a in e.args) + ")"

        def _print_Heaviside(self, e):
            return f"heaviside({self._print(e.args[0])})"

        def _print_Exp1(self, e):
            return "exp(1)"

        def _print_Rational(self, e):
            return f"({e.p}/{e.q})"

    return Printer()


@dataclass(frozen=True, eq=False)
class ClosedForms:
    """The output as a formula of the inputs and the gradient of each name asked for, as
    SymPy expressions over the symbols ``names``; ``too_large`` (and nothing else) when
    the formulas would be too large to show (:data:`MAX_CLOSED_FORM_SIZE`)."""

    function: object
    gradients: tuple[tuple[str, object], ...]
    names: tuple[str, ...]
    too_large: bool = False


def _written_size(definitions: list[tuple[str, Expr]], limit: int) -> int:
    """The parts of each gate's formula with the gates it uses written out (a gate used
    twice counts twice), from the expression trees alone; counting stops past ``limit``."""
    size: dict[str, int] = {}
    for name, expr in definitions:
        total = 0
        for n in walk(expr):
            total += size.get(n.name, 1) if isinstance(n, Var) else 1
        size[name] = min(total, limit + 1)
    return max(size.values(), default=0)


def _tree_size(value, limit: int) -> int:
    """The parts of a SymPy expression written out, counting stops past ``limit``."""
    count = 0
    stack = [value]
    while stack and count <= limit:
        node = stack.pop()
        count += 1
        stack.extend(node.args)
    return count


def closed_forms(definitions: list[tuple[str, Expr]], output: str,
                 wrt: Iterable[str]) -> Optional[ClosedForms]:
    """The closed forms of a graph whose gates ``definitions`` are in topological order;
    ``None`` for graphs too large to be worth it."""
    if sum(_ops(e) for _, e in definitions) > MAX_CLOSED_FORM_OPS:
        return None
    too_large = ClosedForms(None, (), (), too_large=True)
    if _written_size(definitions, MAX_CLOSED_FORM_SIZE) > MAX_CLOSED_FORM_SIZE:
        return too_large
    sp = namespace()
    symbols: dict = {}
    formula: dict = {}
    for name, expr in definitions:
        formula[name] = to_sympy(expr, symbols, formula)
    result = formula[output]
    names = tuple(n for n in symbols if n not in formula)
    gradients = []
    for name in wrt:
        sym = symbols[name] if name in symbols else sp.Symbol(name, real=True)
        gradient = _diff(result, sym)
        # The product rule can make a derivative several times its function's size.
        if _tree_size(gradient, 4 * MAX_CLOSED_FORM_SIZE) > 4 * MAX_CLOSED_FORM_SIZE:
            return too_large
        gradients.append((name, gradient))
    return ClosedForms(result, tuple(gradients), names)
