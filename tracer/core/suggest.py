"""What to write instead: the suggestions of error messages.

A suggestion is only made when it is likely to be what the author meant: a close spelling
(one slip in a short word, two in a long one, or only a difference of case), or a known
way of writing something tracer has no function for (``ln`` -> ``log``, ``softmax`` ->
exponentials and a division).  A name tracer cannot take (a Python keyword, a Greek
letter typed as such) gets the ASCII name that is typeset as the author meant it.

This module imports nothing of tracer.
"""
from __future__ import annotations

import keyword
import re
import unicodedata
from typing import Iterable, Optional

__all__ = ["close_match", "distance", "function_instead", "name_instead",
           "number_before_name", "keyword_used"]


def distance(a: str, b: str, limit: int) -> int:
    """The number of slips (a letter added, left out, changed, or two swapped) between
    ``a`` and ``b``; any number above ``limit`` is returned as ``limit + 1``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        row = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = ca != cb
            row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                row[j] = min(row[j], previous2[j - 2] + 1)
        if min(row) > limit:
            return limit + 1
        previous2, previous = previous, row
    return min(previous[-1], limit + 1)


def _allowed(word: str) -> int:
    """Slips a misspelling of ``word`` may have: none in a one-letter name (any other
    letter is one slip away), one up to five characters, two beyond."""
    if len(word) <= 1:
        return 0
    return 1 if len(word) <= 5 else 2


def close_match(word: str, choices: Iterable[str]) -> Optional[str]:
    """The choice ``word`` is most likely a misspelling of, or None when none is close:
    ``sine`` -> ``sin``, ``wieght`` -> ``weight``, ``Relu`` -> ``relu``; ``softmax`` and
    ``mean`` are close to nothing."""
    lowered = word.lower()
    best: Optional[tuple[int, str]] = None
    for choice in sorted(set(choices)):
        if choice == word:
            continue
        if choice.lower() == lowered:
            return choice
        limit = _allowed(min(word, choice, key=len))
        if not limit:
            continue
        d = distance(lowered, choice.lower(), limit)
        if d <= limit and (best is None or d < best[0]):
            best = (d, choice)
    return best[1] if best else None


#: Functions that authors reach for and tracer does not have, with what to write instead.
_INSTEAD = {
    "ln": "write log(x): log is the natural logarithm",
    "log10": "write log(x) / log(10)",
    "log2": "write log(x) / log(2)",
    "pow": "write a ** b",
    "power": "write a ** b",
    "square": "write x ** 2",
    "sqr": "write x ** 2",
    "cbrt": "write x ** (1 / 3)",
    "logistic": "write sigmoid(x)",
    "sigma": "write sigmoid(x) (a name sigma is typeset as the Greek letter)",
    "avg": "write mean(v) for a vector v, or the mean out, e.g. (a + b + c) / 3",
    "average": "write mean(v) for a vector v, or the mean out, e.g. (a + b + c) / 3",
    "maximum": "write max(a, b)",
    "minimum": "write min(a, b)",
    "fabs": "write abs(x)",
    "sinh": "write (exp(x) - exp(-x)) / 2",
    "cosh": "write (exp(x) + exp(-x)) / 2",
    "silu": "write x * sigmoid(x)",
    "swish": "write x * sigmoid(x)",
    "leaky_relu": "write max(x, 0.01 * x)",
    "leakyrelu": "write max(x, 0.01 * x)",
    "elu": "write it with max, min and exp, e.g. max(x, 0) + min(exp(x) - 1, 0)",
}


def function_instead(name: str) -> Optional[str]:
    """What to write instead of calling ``name``, a function tracer does not have, when
    there is a usual way to write it."""
    return _INSTEAD.get(name) or _INSTEAD.get(name.lower())


# ----------------------------------------------------------------------------- names

# Unicode spells the letter lambda "LAMDA".
_LETTER_NAMES = {"lamda": "lambda"}


def _ascii_letter(ch: str) -> Optional[str]:
    """The ASCII name of a Greek letter (``σ`` -> ``sigma``, ``Σ`` -> ``Sigma``, ``ϕ`` ->
    ``phi``), or None for any other character."""
    try:
        words = unicodedata.name(ch).split()
    except ValueError:
        return None
    if words[:1] != ["GREEK"] or len(words) < 3:
        return None
    if words[1] in ("SMALL", "CAPITAL") and words[2] == "LETTER" and len(words) >= 4:
        # GREEK SMALL LETTER ALPHA (WITH TONOS), GREEK SMALL LETTER FINAL SIGMA
        letter = words[4] if words[3] == "FINAL" and len(words) > 4 else words[3]
        letter = _LETTER_NAMES.get(letter.lower(), letter.lower())
        return letter.capitalize() if words[1] == "CAPITAL" else letter
    if words[-1] == "SYMBOL":               # GREEK PHI SYMBOL, GREEK LUNATE EPSILON SYMBOL
        letter = words[-2].lower()
        return _LETTER_NAMES.get(letter, letter)
    return None


def name_instead(name: str) -> Optional[str]:
    """An ASCII name tracer accepts that is typeset as ``name`` would be: ``σ`` ->
    ``sigma``, ``σ1`` -> ``sigma1``, ``λ`` and ``lambda`` -> ``lambda_``, ``w₁`` -> ``w1``;
    None when there is none."""
    parts: list[str] = []
    for ch in unicodedata.normalize("NFKC", name):
        if ch.isascii():
            if not (ch.isalnum() or ch == "_"):
                return None
            parts.append(ch)
            continue
        letter = _ascii_letter(ch)
        if letter is None:
            return None
        # A Greek letter after a letter starts a new part (xσ -> x_sigma), and a letter
        # after it would run into its name (σx -> sigma_x).
        if parts and (parts[-1][-1:].isalpha()):
            parts.append("_")
        parts.append(letter + "\x00")
    text = "".join(parts)
    text = re.sub(r"\x00(?=[A-Za-z])", "_", text).replace("\x00", "")
    if not text or not re.match(r"[A-Za-z_][A-Za-z0-9_]*\Z", text):
        return None
    if keyword.iskeyword(text) or keyword.issoftkeyword(text):
        text += "_"
    return text if text != name else None


# ----------------------------------------------------------------------------- expressions

_NUMBER_THEN_NAME = re.compile(r"(?<![\w.])(\d[\w.]*)")


def number_before_name(source: str) -> Optional[tuple[int, str, str]]:
    """A number written right before a name, as in ``2x`` (which Python reads as a broken
    number): (0-based column, the number, the name), or None."""
    for match in _NUMBER_THEN_NAME.finditer(source):
        token = match.group(1)
        if _is_number(token):
            continue
        for cut in range(len(token) - 1, 0, -1):
            number, rest = token[:cut], token[cut:]
            if _is_number(number) and re.match(r"[A-Za-z_]\w*\Z", rest):
                return match.start(1), number, rest
    return None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        try:
            int(text, 0)
        except ValueError:
            return False
    return True


_WORD = re.compile(r"[^\W\d]\w*")
# Keywords that can stand in an expression Python reads (a if b else c, not a, lambda: a);
# those are refused later with their own message.
_EXPRESSION_KEYWORDS = {"True", "False", "None"}


def keyword_used(source: str) -> Optional[tuple[int, str]]:
    """The first Python keyword written in ``source`` as if it were a name: (0-based
    column, keyword), or None."""
    for match in _WORD.finditer(source):
        word = match.group(0)
        if keyword.iskeyword(word) and word not in _EXPRESSION_KEYWORDS:
            return match.start(), word
    return None
