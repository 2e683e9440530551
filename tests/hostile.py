"""Small problem files that ask for a lot of work, shared by the reliability tests and
benchmarks/hostile_build.py: each function gives the YAML text of a problem of size n."""
from __future__ import annotations


def fan_in(n: int, name: str = "x") -> str:
    """One gate summing n inputs."""
    inputs = "".join(f"  {name}{i}: {i % 7}\n" for i in range(n))
    terms = " + ".join(f"{name}{i}" for i in range(n))
    return f"title: fan-in\ninputs:\n{inputs}nodes:\n  s: {terms}\n"


def fan_out(n: int) -> str:
    """One input used by n gates, which one gate sums."""
    return ("title: fan-out\ninputs: {x: 0.5}\nnodes:\n"
            + "".join(f"  u{i}: x * {i % 9 + 1}\n" for i in range(n))
            + "  s: " + " + ".join(f"u{i}" for i in range(n)) + "\n")


def chain(k: int) -> str:
    """u_k = u_{k-1} sin(u_{k-1}): a closed form that doubles with every gate."""
    nodes = "".join(f"  u{i}: u{i - 1} * sin(u{i - 1})\n" for i in range(1, k + 1))
    return f"title: blow-up\ninputs:\n  u0: 1.5\nnodes:\n{nodes}"


def sine_chain(n: int) -> str:
    """n gates in a row, each a scaled sine of the one before."""
    return "title: c\ninputs: {x: 0.1}\nnodes:\n" + "".join(
        f"  u{i}: sin(u{i - 1}) * 1.1\n" if i else "  u0: sin(x)\n" for i in range(n))


def long_expression(n: int) -> str:
    """One expression of n uses of one input."""
    return "title: e\ninputs: {x: 0.5}\nexpression: " + " + ".join(["x"] * n) + "\n"
