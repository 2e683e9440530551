"""SymPy, for what it does better than we would: the local derivatives of a gate made of
several operations (``C: 0.5 * (y - a)**2`` -> ``a - y``) and the closed form of a whole
gradient (``2 x cos(x^2)``).  Numbers never come from here: they come from the table of
primitives.  SymPy is imported on first use.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Iterable, Optional

from .expr import Call, Expr, Var, fold, tex_symbol, walk
from .primitives import PRIMITIVES

__all__ = ["too_large", "local_tex", "local_python", "closed_forms", "MAX_SYMBOLIC_OPS",
           "MAX_CLOSED_FORM_OPS"]

#: Gates and graphs larger than this get no symbolic formula (SymPy's cost grows fast).
MAX_SYMBOLIC_OPS = 200
#: Graphs with more operations than this get no closed form: past it the formula no longer
#: teaches anything (it fills lines) and SymPy's time grows fast.
MAX_CLOSED_FORM_OPS = 30


def _power(tex: str, exp: Optional[str]) -> str:
    # SymPy asks a function for its LaTeX with the exponent when it is raised to a power.
    return tex if exp is None else r"\left(" + tex + r"\right)^{" + exp + "}"


@lru_cache(maxsize=None)
def namespace():
    """SymPy plus the functions of the table SymPy lacks (sigmoid, relu, step)."""
    import sympy as sp

    class sigmoid(sp.Function):  # noqa: N801 - the name printed in formulas
        is_real = True
        is_positive = True

        @classmethod
        def eval(cls, x):
            if x.is_number:
                return 1 / (1 + sp.exp(-x))

        def fdiff(self, argindex=1):
            s = sigmoid(self.args[0])
            return s * (1 - s)

        def _latex(self, printer, exp=None):
            return _power(r"\sigma\left(" + printer._print(self.args[0]) + r"\right)", exp)

    class step(sp.Function):  # noqa: N801
        is_real = True
        is_nonnegative = True

        @classmethod
        def eval(cls, x):
            if x.is_number:
                return sp.Integer(1 if float(x) > 0 else 0)

        def fdiff(self, argindex=1):
            return sp.Integer(0)

        def _latex(self, printer, exp=None):
            return _power(r"\mathbf{1}\left[" + printer._print(self.args[0]) + r" > 0\right]",
                          exp)

    class relu(sp.Function):  # noqa: N801
        is_real = True
        is_nonnegative = True

        @classmethod
        def eval(cls, x):
            if x.is_number:
                return sp.Max(x, 0)

        def fdiff(self, argindex=1):
            return step(self.args[0])

        def _latex(self, printer, exp=None):
            return _power(r"\operatorname{relu}\left(" + printer._print(self.args[0])
                          + r"\right)", exp)

    def pick(name: str, first: int):
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

    class Namespace:
        def __getattr__(self, name):
            return getattr(sp, name)

    ns = Namespace()
    ns.sigmoid, ns.relu, ns.step = sigmoid, relu, step
    ns.max, ns.min = pick("max", 1), pick("min", 2)
    return ns


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

    return fold(expr, leaf, lambda node, args: PRIMITIVES[node.op].sympy(sp, *args))


def _latex(value, names: Iterable[str]) -> str:
    sp = namespace()
    symbol_names = {sp.Symbol(n, real=True): tex_symbol(n) for n in names}
    # SymPy writes Heaviside as theta; the table (and most courses) write H.
    return sp.latex(value, symbol_names=symbol_names, ln_notation=True).replace(r"\theta\left(", r"H\left(")


def _diff(expr, symbol):
    """d expr / d symbol, with the table's convention that step, sign and heaviside have
    derivative 0 (SymPy would write Dirac deltas, which no worked example uses)."""
    sp = namespace()
    return sp.diff(expr, symbol).replace(sp.DiracDelta, lambda *args: sp.Integer(0))


def local_tex(expr: Expr, operands: list[str]) -> Optional[list[str]]:
    """LaTeX of d(expr)/d(name) for each name in ``operands``, or ``None`` if too large."""
    if too_large(expr):
        return None
    symbols: dict = {}
    gate = to_sympy(expr, symbols)
    return [_latex(_diff(gate, symbols[name]), symbols) for name in operands]


def local_python(expr: Expr, operands: list[str]) -> Optional[list[str]]:
    """Python source of d(expr)/d(name) for each name in ``operands`` (functions by their
    table names: ``sigmoid``, ``heaviside``, ``abs``, ``max``), or ``None`` if too large."""
    if too_large(expr):
        return None
    symbols: dict = {}
    gate = to_sympy(expr, symbols)
    printer = _python_printer()
    return [printer.doprint(_diff(gate, symbols[name])) for name in operands]


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


def closed_forms(definitions: list[tuple[str, Expr]], output: str,
                 wrt: list[str]) -> Optional[tuple[str, dict[str, str]]]:
    """The output as a formula of the inputs, and the gradient of each name in ``wrt``.

    ``definitions`` are the gates in topological order.  Returns ``None`` for graphs too
    large to be worth it.
    """
    if sum(_ops(e) for _, e in definitions) > MAX_CLOSED_FORM_OPS:
        return None
    sp = namespace()
    symbols: dict = {}
    formula: dict = {}
    for name, expr in definitions:
        formula[name] = to_sympy(expr, symbols, formula)
    result = formula[output]
    names = [n for n in symbols if n not in formula]
    gradients = {}
    for name in wrt:
        sym = symbols[name] if name in symbols else sp.Symbol(name, real=True)
        gradients[name] = _latex(_diff(result, sym), names)
    return _latex(result, names), gradients
