"""How a variable's name is read: a base and a subscript, and Greek letters.

The one place for both, so that LaTeX and the figures write a name alike: ``x1`` is x with
the subscript 1, ``w_out`` is w with the subscript out, ``alpha`` is α, ``lambda_`` is λ.
"""
from __future__ import annotations

import re
from typing import Optional

__all__ = ["GREEK", "split_name", "greek", "component_parts"]

#: Greek letters a name may spell, with their LaTeX command and their Unicode letter (the
#: capitals that look like Latin ones, such as Alpha, have no command of their own in
#: LaTeX: they are not Greek names here).
GREEK: dict[str, tuple[str, str]] = {
    "alpha": (r"\alpha", "α"), "beta": (r"\beta", "β"), "gamma": (r"\gamma", "γ"),
    "delta": (r"\delta", "δ"), "epsilon": (r"\epsilon", "ε"), "zeta": (r"\zeta", "ζ"),
    "eta": (r"\eta", "η"), "theta": (r"\theta", "θ"), "iota": (r"\iota", "ι"),
    "kappa": (r"\kappa", "κ"), "lambda": (r"\lambda", "λ"), "mu": (r"\mu", "μ"),
    "nu": (r"\nu", "ν"), "xi": (r"\xi", "ξ"), "pi": (r"\pi", "π"), "rho": (r"\rho", "ρ"),
    "sigma": (r"\sigma", "σ"), "tau": (r"\tau", "τ"), "upsilon": (r"\upsilon", "υ"),
    "phi": (r"\phi", "φ"), "chi": (r"\chi", "χ"), "psi": (r"\psi", "ψ"),
    "omega": (r"\omega", "ω"),
    "Gamma": (r"\Gamma", "Γ"), "Delta": (r"\Delta", "Δ"), "Theta": (r"\Theta", "Θ"),
    "Lambda": (r"\Lambda", "Λ"), "Xi": (r"\Xi", "Ξ"), "Pi": (r"\Pi", "Π"),
    "Sigma": (r"\Sigma", "Σ"), "Upsilon": (r"\Upsilon", "Υ"), "Phi": (r"\Phi", "Φ"),
    "Psi": (r"\Psi", "Ψ"), "Omega": (r"\Omega", "Ω"),
}


def split_name(name: str) -> tuple[str, str]:
    """A variable name as (base, subscript): ``x1`` -> (x, 1), ``w_out`` -> (w, out),
    ``lambda_`` -> (lambda, "")."""
    base, sep, sub = name.partition("_")
    if not sep:
        letters = name.rstrip("0123456789")
        if letters != name and letters.isalpha():  # names are ASCII (checked on load)
            base, sub = letters, name[len(letters):]
    return base, sub


def greek(base: str) -> Optional[tuple[str, str]]:
    """(LaTeX command, Unicode letter) when ``base`` spells a Greek letter, else None."""
    return GREEK.get(base)


# An entry of a vector or matrix in the component view (tracer.core.components): W1_1_4 is
# the entry in row 1, column 4 of W1, z1_2 the second entry of z1, x_1_2 an entry of x.
_COMPONENT = re.compile(r"([A-Za-z]+[0-9]+|[A-Za-z]+(?=_[0-9]+_[0-9]+\Z))((?:_[0-9]+){1,2})\Z")


def component_parts(name: str) -> Optional[tuple[str, tuple[str, ...]]]:
    """(the vector or matrix, the indices) when ``name`` names an entry of one: ``W1_1_4``
    -> (W1, (1, 4)), ``z1_2`` -> (z1, (2,)), ``W_1_2`` -> (W, (1, 2)); ``x_1`` is the name x
    with the subscript 1 already and gives None."""
    match = _COMPONENT.match(name)
    if match is None:
        return None
    return match.group(1), tuple(match.group(2)[1:].split("_"))
