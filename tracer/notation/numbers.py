"""How numbers are written: the same value always gives the same text (deterministic output)."""
from __future__ import annotations

import math

__all__ = ["fmt", "fmt_tex", "fmt_text", "fmt_factor", "fmt_full", "format_const", "FIXED"]

#: The powers of ten written out in decimals (0.0001234 to 123456); anything smaller or
#: larger is written as mantissa and power, in every document alike: a number of four
#: significant digits never needs more than four zeros to read.
FIXED = range(-4, 6)


def fmt(value: float, digits: int = 4) -> str:
    """``value`` to ``digits`` significant digits, without trailing zeros: 0.73105 -> 0.7311,
    36.0 -> 36, -0.0 -> 0; below 0.0001 and from a million on in e-notation (2.805e-5)."""
    if value == 0 or not math.isfinite(value):
        return "0" if value == 0 else repr(value)
    magnitude = math.floor(math.log10(abs(value)))
    if magnitude in FIXED:
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


_SUPERSCRIPT = str.maketrans("-0123456789", "\u207b\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079")


def fmt_text(value: float, digits: int = 4) -> str:
    """:func:`fmt` for text a reader sees outside formulas (figures, image descriptions):
    a true minus sign and the power of ten as in the formulas, 2.805e-5 -> 2.805×10⁻⁵."""
    text = fmt(value, digits)
    if "e" in text:
        mant, _, exp = text.partition("e")
        text = f"{mant}\u00d710{exp.translate(_SUPERSCRIPT)}"
    return text.replace("-", "\u2212")


def fmt_factor(value: float, digits: int = 4) -> str:
    """:func:`fmt` for a factor of a product or the right side of a difference in plain
    text: a negative number in parentheses, 1 * (-0.5) rather than 1 * -0.5."""
    text = fmt(value, digits)
    return f"({text})" if text.startswith("-") else text


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
