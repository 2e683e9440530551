"""Training: several steps of gradient descent on a problem's parameters.

``train: {steps: 20, learning_rate: 0.5, params: [w1, w2, b]}`` repeats what ``update``
does once: compute the gradients of the output (the loss) at the current parameters, move
each parameter against its gradient, and again.  Options, as PyTorch's ``torch.optim.SGD``
and ``torch.nn.utils.clip_grad_value_`` define them:

* ``momentum`` mu: a velocity per parameter, ``v <- mu v + g`` (v starting at 0), and the
  step ``theta <- theta - learning_rate v``;
* ``clip`` c: each gradient is clipped to [-c, c] before it is used.

The engine runs the loop (:func:`run`) with a function it gives, which returns the values
and the gradients at given inputs; this module holds the mathematics of the optimiser and
imports nothing of tracer but the table of primitives.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Optional

from .errors import Diagnostic, TracerError, did_you_mean
from .primitives import clip as clip_value

__all__ = ["Train", "TrainStep", "TrainingTrace", "read_train", "run", "TRAIN_KEYS",
           "MAX_TRAIN_STEPS"]

TRAIN_KEYS = ("steps", "learning_rate", "params", "momentum", "clip")
#: The most steps a problem may train for (its table lists every one).
MAX_TRAIN_STEPS = 1000


@dataclass(frozen=True)
class Train:
    """Gradient descent for ``steps`` steps on ``params``."""

    steps: int
    learning_rate: float
    params: tuple[str, ...]
    momentum: float = 0.0
    clip: Optional[float] = None


@dataclass(frozen=True, slots=True)
class TrainStep:
    """The parameters after ``step`` steps (0: as given), the loss there and its gradients;
    ``used``: the gradients as the next step uses them (clipped), ``velocity``: the
    momentum after the next step (empty without momentum).  The last row, after the last
    step, has the loss and gradients there but no step of its own."""

    step: int
    params: tuple[float, ...]
    loss: float
    grads: tuple[float, ...]
    used: tuple[float, ...]
    velocity: tuple[float, ...] = ()


@dataclass(frozen=True)
class TrainingTrace:
    """Every step of a training run, in order: ``steps + 1`` rows."""

    learning_rate: float
    momentum: float
    clip: Optional[float]
    params: tuple[str, ...]
    rows: tuple[TrainStep, ...]

    @property
    def losses(self) -> tuple[float, ...]:
        return tuple(r.loss for r in self.rows)


def run(problem: Any, inputs: dict[str, float],
        gradients: Callable[[dict[str, float]], tuple[float, dict[str, float]]]
        ) -> TrainingTrace:
    """Train ``problem`` (a :class:`~tracer.core.load.Problem` with ``train``) from
    ``inputs``: ``gradients(inputs)`` gives the loss and every gradient there (the engine's
    forward and backward pass).  A step that leaves the function's domain or overflows is a
    :class:`TracerError` at the line of ``train``, saying after how many steps."""
    try:
        return _run(problem.train, inputs, gradients)
    except _Failed as exc:
        cause = exc.cause
        why = "; ".join(d.message for d in cause.diagnostics) \
            if isinstance(cause, TracerError) else str(cause)
        raise TracerError([Diagnostic(
            problem.path, f"train: after {exc.step} step{'s' if exc.step != 1 else ''}, {why}; "
            "a smaller learning_rate or a clip may keep the steps in range",
            problem.line("train"))]) from None


class _Failed(Exception):
    def __init__(self, step: int, cause: Exception):
        super().__init__(str(cause))
        self.step = step
        self.cause = cause


def _run(train: Train, inputs: dict[str, float],
         gradients: Callable[[dict[str, float]], tuple[float, dict[str, float]]]
         ) -> TrainingTrace:
    current = dict(inputs)
    velocity = [0.0] * len(train.params)
    rows = []
    for step in range(train.steps + 1):
        try:
            loss, grads = gradients(current)
        except TracerError as exc:         # the engine's error, handed back with the step
            raise _Failed(step, exc) from None
        params = tuple(current[p] for p in train.params)
        g = tuple(grads[p] for p in train.params)
        used = g if train.clip is None else \
            tuple(clip_value(x, -train.clip, train.clip) for x in g)
        if step == train.steps:
            rows.append(TrainStep(step, params, loss, g, used))
            break
        if train.momentum:
            velocity = [train.momentum * v + u for v, u in zip(velocity, used)]
            moves = velocity
        else:
            moves = list(used)
        for name, old, move in zip(train.params, params, moves):
            current[name] = old - train.learning_rate * move
        if not all(math.isfinite(current[p]) for p in train.params):
            raise _Failed(step + 1, OverflowError("a parameter overflows to infinity"))
        rows.append(TrainStep(step, params, loss, g, used,
                              tuple(velocity) if train.momentum else ()))
    return TrainingTrace(train.learning_rate, train.momentum, train.clip, train.params,
                         tuple(rows))


# ----------------------------------------------------------------------------- reading

def read_train(checker: Any, node: Any) -> Optional[Train]:
    """The ``train`` block (a YAML mapping), read through the problem checker of
    :mod:`tracer.core.load`; ``None`` (with the mistakes reported) if it cannot be read."""
    entries = checker.mapping(node, "train")
    found = {}
    for key, key_node, value_node in entries:
        if key not in TRAIN_KEYS:
            checker.error(f"unknown key '{key}' in train{did_you_mean(key, TRAIN_KEYS)} (the "
                          f"keys are: {', '.join(TRAIN_KEYS)})", key_node)
            continue
        found[key] = value_node
    for required in ("steps", "params"):
        if entries and required not in found:
            checker.error(f"train needs '{required}': " + (
                "how many steps of gradient descent to take" if required == "steps" else
                "the inputs gradient descent changes"), node)
    ok = bool(entries) and "steps" in found and "params" in found
    steps = checker.integer(found["steps"], "train: steps", 1, MAX_TRAIN_STEPS) \
        if "steps" in found else None
    rate = _positive(checker, found, "learning_rate", 1.0)
    momentum = 0.0
    if "momentum" in found:
        momentum = checker.number(found["momentum"], "train: momentum")
        if momentum is not None and not 0 <= momentum < 1:
            checker.error("train: momentum must be at least 0 and below 1",
                          found["momentum"])
            momentum = None
    clip = _positive(checker, found, "clip", None)
    params = checker.names(found["params"], "train: params") if "params" in found else None
    if params == ():
        checker.error("train: params is empty: name the inputs to train", found["params"])
    if not ok or None in (steps, rate, momentum, params) or not params or \
            ("clip" in found and clip is None):
        return None
    checker.lines["train.params"] = found["params"].start_mark.line + 1
    return Train(steps, rate, params, momentum, clip)  # type: ignore[arg-type]


def _positive(checker: Any, found: dict, key: str, default: Optional[float]
              ) -> Optional[float]:
    if key not in found:
        return default
    value = checker.number(found[key], f"train: {key}")
    if value is not None and value <= 0:
        checker.error(f"train: {key} must be greater than 0", found[key])
        return None
    return value
