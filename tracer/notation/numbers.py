"""How numbers are written: the same value always gives the same text (deterministic output)."""
from __future__ import annotations

import math

__all__ = ["fmt", "fmt_tex", "fmt_full", "format_const"]


def fmt(value: float, digits: int = 4) -> str:
    """``value`` to ``digits`` significant digits, without trailing zeros: 0.73105 -> 0.7311,
    36.0 -> 36, -0.0 -> 0; very large or small numbers in e-notation (1.2e-07)."""
    if value == 0 or not math.isfinite(value):
        return "0" if value == 0 else repr(value)
    magnitude = math.floor(math.log10(abs(value)))
    if -5 <= magnitude < 15:
        decimals = max(digits - 1 - magnitude, 0)
        text = f"{value:.{decimals}f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
    else:
        text = f"{value:.{digits - 1}e}"
        mant, _, exp = text.partition("e")
        if "." in mant:
            mant = mant.rstrip("0").rstrip(".")
        text = f"{mant}e{int(exp)}"
    return "0" if text in ("-0", "0") else text


def fmt_tex(value: float, digits: int = 4) -> str:
    """:func:`fmt` for LaTeX: 1.2e-07 -> ``1.2 \\times 10^{-7}``."""
    text = fmt(value, digits)
    if "e" in text:
        mant, _, exp = text.partition("e")
        return rf"{mant} \times 10^{{{exp}}}"
    return text


def fmt_full(value: float) -> str:
    """The shortest text that reads back as exactly ``value`` (for generated code)."""
    if value == int(value) and abs(value) < 1e15:
        return str(int(value)) + ".0"
    return repr(value)


def format_const(value: float) -> str:
    """A constant written in an expression, as short as Python's repr allows: 3.0 -> 3."""
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)
