"""Fit captured instead of submitted: how a tuner learns a trial's job from the user's own
`build_model(hp)` and `HyperModel.fit` (`cornu.tuner.templates`). Within `capturing`,
`fit` uploads its data and builds its job's body but submits nothing."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Capture:
    """What `fit` would submit, kept instead of submitted (`capturing`): how a tuner
    learns a trial's job from the user's own `build_model(hp)` and `HyperModel.fit`."""

    seed: int
    bodies: list[dict[str, Any]] = field(default_factory=list)
    fitted: set[int] = field(default_factory=set)  # ids of the models whose fit it kept


_CAPTURE: ContextVar[Capture | None] = ContextVar("cornu_fit_capture", default=None)


@contextlib.contextmanager
def capturing(seed: int) -> Iterator[Capture]:
    """Within this, `fit` uploads its data and builds its job's body (with `seed` unless
    given one) but submits nothing: the body lands in the capture, fit returns an empty
    History, and the user's own callbacks are left out (with a warning)."""
    capture = Capture(seed)
    token = _CAPTURE.set(capture)
    try:
        yield capture
    finally:
        _CAPTURE.reset(token)


class ClientObjective(Exception):
    """The code `capturing` runs needs a trained model's weights (it predicts or
    evaluates after fit): its objective is computed in the user's process."""


def refuse_while_capturing(model: Any) -> None:
    """Raise ClientObjective inside `capturing` when `model` is one whose fit was
    captured: its trained weights are asked for (a layer called on arrays, or a model
    never fit, reads no trained weights and goes on)."""
    capture = _CAPTURE.get()
    if capture is not None and id(model) in capture.fitted:
        raise ClientObjective("the code reads the weights of a model it fit")


def current_capture() -> Capture | None:
    """The capture `fit` runs in, if any."""
    return _CAPTURE.get()
