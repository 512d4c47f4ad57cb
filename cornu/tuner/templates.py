"""A study's search space and trial templates, learned by running the user's code.

The service never runs user code, so the SDK runs `build_model(hp)` (or a HyperModel's
`build` and `fit`) here with chosen values, with `fit` captured instead of submitted
(`cornu.capture.capturing`), and compares the job bodies it gets:

- a hyperparameter whose change alters only JSON values equal to it (a Dense's `units`, a
  learning rate, an activation's name) is a *leaf*: the template holds `{"$hp": name}`
  there, and the service puts any value in;
- one whose change alters anything else (how many layers, an optimizer's kind, the data
  a `fit` preprocesses) is *structural*: each of its values gets a template of its own
  (`when`), which needs a finite set of values (Int, Choice, Boolean, or a Float with a
  step).

Each set of structural values is one run of the user's code, and each leaf one more
per template: a space of a few structural hyperparameters takes seconds. Code that reads
a trained model (predicts, evaluates after fit, returns its own score) cannot be turned
into a template: `ClientObjective` says so, and the tuner runs that search here instead.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cornu.backend import clear_session
from cornu.callbacks.client import History
from cornu.capture import ClientObjective, capturing
from cornu.core.spec.study import MAX_TEMPLATES, PLACEHOLDER, AnyHp, FixedHp, FloatHp, IntHp
from cornu.tuner.hyperparameters import HyperParameters

Path = tuple[str | int, ...]
Render = Callable[[HyperParameters], Any]  # runs the user's code with these values
MAX_RUNS = 400  # runs of the user's code one discovery may take


@dataclass
class Templates:
    space: list[AnyHp]
    templates: list[dict[str, Any]]  # {"when": {...}, "job": {...}}
    runs: int


class NotTemplatable(ValueError):
    """The user's code cannot be turned into templates (the tuner searches here instead)."""


class TooManyTemplates(NotTemplatable):
    pass


def discover(build_and_fit: Render, seed: int) -> Templates:
    """The space and templates of `build_and_fit(hp)` (which builds a model and calls its
    `fit` once). ClientObjective when the code needs trained weights or its fit does not
    return fit's History; ValueError for a Float used in a computation, or too many
    structural combinations (more than MAX_TEMPLATES)."""
    return _Discovery(build_and_fit, seed).run()


class _Discovery:
    def __init__(self, build_and_fit: Render, seed: int) -> None:
        self.build_and_fit, self.seed = build_and_fit, seed
        self.space: dict[str, AnyHp] = {}
        self.structural: set[str] = set()
        self.leaves: set[str] = set()
        self.runs = 0

    def render(self, values: dict[str, Any]) -> tuple[HyperParameters, dict[str, Any]]:
        self.runs += 1
        if self.runs > MAX_RUNS:
            raise TooManyTemplates(f"the space needs more than {MAX_RUNS} runs of build_model")
        hp = HyperParameters()
        hp.values = dict(values)
        clear_session()  # KerasTuner: default names count from the start for each build
        with capturing(self.seed) as capture:
            returned = self.build_and_fit(hp)
        if len(capture.bodies) != 1:
            raise ClientObjective(f"the code called fit {len(capture.bodies)} times, not once")
        if not isinstance(returned, History):
            raise ClientObjective("HyperModel.fit returns its own score, not fit's History")
        for hp_spec in hp.space:
            self.space.setdefault(hp_spec.name, hp_spec)
        active = {name: value for name, value in hp.values.items() if name in hp._space}
        return hp, {"values": active, "body": capture.bodies[0]}

    def run(self) -> Templates:
        while True:
            try:
                templates = self._explore({})
            except _Restart:
                continue  # a hyperparameter turned out structural: explore again
            return Templates(list(self.space.values()), templates, self.runs)

    def _explore(self, fixed: dict[str, Any]) -> list[dict[str, Any]]:
        """Templates for the values in `fixed` (structural ones), the rest at defaults."""
        _, first = self.render(fixed)
        values, body = first["values"], first["body"]
        for name in values:
            if name not in self.leaves and name not in self.structural:
                self._classify(name, fixed, values, body)
        open_ = [n for n in values if n in self.structural and n not in fixed]
        if open_:
            name = open_[0]
            found: list[dict[str, Any]] = []
            for value in _finite_values(self.space[name]):
                found += self._explore({**fixed, name: value})
                if len(found) > MAX_TEMPLATES:
                    raise TooManyTemplates(
                        f"the search space has more than {MAX_TEMPLATES} model structures "
                        f"({', '.join(sorted(self.structural))} change it); use fewer values"
                    )
            return found
        template = body
        for name in values:
            if name in self.leaves:
                template = self._place(name, fixed, values, body, template)
        when = {n: v for n, v in values.items() if n in self.structural}
        return [{"when": when, "job": template}]

    def _classify(
        self, name: str, fixed: dict[str, Any], values: dict[str, Any], body: dict[str, Any]
    ) -> None:
        """Leaf if every probe (`_probes`: all of a few values, else the ends and the
        middle) changes only the places that hold its value, the same places each time."""
        hp = self.space[name]
        found: set[tuple[Path, ...]] = set()
        for other in _probes(hp, values[name]):
            _, changed = self.render({**fixed, name: other})
            paths = _leaf_paths(body, changed["body"], values[name], other)
            if paths is None or set(changed["values"]) != set(values):
                self._structural(hp)
                return
            found.add(tuple(paths))
        if len(found) > 1:  # a value written in different places: it decides something
            self._structural(hp)
        else:
            self.leaves.add(name)

    def _structural(self, hp: AnyHp) -> None:
        if isinstance(hp, FloatHp) and hp.step is None:
            raise NotTemplatable(
                f"hyperparameter {hp.name!r} (a Float without a step) changes more than the "
                "values it is written into (it is computed with, or decides the model's "
                "structure): give it a step, or pass it straight to a layer or optimizer "
                "argument"
            )
        self.leaves.discard(hp.name)
        self.structural.add(hp.name)

    def _place(
        self,
        name: str,
        fixed: dict[str, Any],
        values: dict[str, Any],
        body: dict[str, Any],
        template: Any,
    ) -> Any:
        """`template` with `{"$hp": name}` wherever `name`'s value is."""
        other = _other_value(self.space[name], values[name])
        if other is None:
            return template
        _, changed = self.render(
            {**fixed, **{n: values[n] for n in values if n in self.structural}, name: other}
        )
        paths = _leaf_paths(body, changed["body"], values[name], other)
        if paths is None or set(changed["values"]) != set(values):
            self._structural(self.space[name])
            raise _Restart
        for path in paths:
            template = _put(template, path, {PLACEHOLDER: name})
        return template


class _Restart(Exception):
    pass


PROBE_ALL = 16  # a hyperparameter with this many values or fewer is probed at each


def _probes(hp: AnyHp, value: Any) -> list[Any]:
    """Values of `hp` other than `value` to try it with: each of a few, else the ends and
    a middle one (code that branches on a threshold shows at one of them)."""
    if isinstance(hp, FixedHp):
        return []
    candidates: list[Any]
    if isinstance(hp, FloatHp) and hp.step is None:
        low, high = hp.min_value, hp.max_value
        mid = math.sqrt(low * high) if hp.sampling != "linear" else (low + high) / 2
        candidates = [low, mid, high]
    elif hp.grid_size() <= PROBE_ALL:
        candidates = hp.grid()
    else:
        grid_size = hp.grid_size()
        if isinstance(hp, IntHp):
            step = hp.step or 1
            picks = [0, grid_size // 2, grid_size - 1]
            candidates = [hp.min_value + i * step for i in picks]
        else:
            every = hp.grid()
            candidates = [every[0], every[len(every) // 2], every[-1]]
    unique: list[Any] = []
    for candidate in candidates:
        if not _same(candidate, value) and not any(_same(candidate, u) for u in unique):
            unique.append(candidate)
    return unique


def _other_value(hp: AnyHp, value: Any) -> Any:
    """A value of `hp` other than `value` (None if it has only one)."""
    probes = _probes(hp, value)
    return probes[0] if probes else None


def _finite_values(hp: AnyHp) -> list[Any]:
    """Every value of a structural hyperparameter (ValueError past MAX_GRID_VALUES)."""
    if hp.grid_size() > MAX_TEMPLATES:
        raise TooManyTemplates(
            f"hyperparameter {hp.name!r} changes the model's structure and has "
            f"{hp.grid_size()} values, more than {MAX_TEMPLATES} templates"
        )
    return list(hp.grid())


def _same(a: Any, b: Any) -> bool:
    """Equal as JSON values (True is not 1)."""
    return (
        type(a) is type(b)
        and a == b
        or (
            isinstance(a, int | float)
            and isinstance(b, int | float)
            and not isinstance(a, bool)
            and not isinstance(b, bool)
            and a == b
        )
    )


def _leaf_paths(a: Any, b: Any, value: Any, other: Any, path: Path = ()) -> list[Path] | None:
    """Where `a` and `b` differ, if they differ only in values `value` (in a) and `other`
    (in b); None if they differ in any other way."""
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return None
        found: list[Path] = []
        for key in a:
            sub = _leaf_paths(a[key], b[key], value, other, (*path, key))
            if sub is None:
                return None
            found += sub
        return found
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return None
        found = []
        for index, (x, y) in enumerate(zip(a, b, strict=True)):
            sub = _leaf_paths(x, y, value, other, (*path, index))
            if sub is None:
                return None
            found += sub
        return found
    if _same(a, b):
        return []
    if _same(a, value) and _same(b, other):
        return [path]
    return None


def _put(tree: Any, path: Path, leaf: Any) -> Any:
    if not path:
        return leaf
    head, rest = path[0], path[1:]
    if isinstance(tree, dict):
        return {**tree, head: _put(tree[head], rest, leaf)}
    copy = list(tree)
    copy[head] = _put(copy[head], rest, leaf)  # type: ignore[index]
    return copy
