"""Grading specs: one JSON file per assignment, loaded into frozen dataclasses.

A spec says which functions a submission must define (and with which arguments the grader calls
them), the data and training budget, and the checks with their points. Thresholds live here, not
in code.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

SPEC_DIR = Path(__file__).with_name("specs")
CHECK_KINDS = ("builds", "output_shape", "compiled", "metric")


class SpecError(ValueError):
    """A spec file is missing or malformed."""


@dataclass(frozen=True)
class Check:
    grade_id: str  # the nbgrader grade cell this check scores
    kind: str  # one of CHECK_KINDS
    function: str
    points: float
    metric: str | None = None
    floor: float | None = None  # at or below: zero points
    threshold: float | None = None  # at or above: full points
    expected: tuple | None = None  # output_shape checks


@dataclass(frozen=True)
class TrainSpec:
    function: str
    epochs: int
    batch_size: int
    seed: int = 0
    max_seconds: float | None = None
    max_params: int = 1_000_000
    max_activations: int = 5_000_000  # output elements per example, summed over layers


@dataclass(frozen=True)
class SandboxSpec:
    wall_seconds: float = 120
    cpu_seconds: float = 240
    memory_mb: int = 6144


@dataclass(frozen=True)
class Spec:
    assignment: str
    notebook: str
    title: str
    functions: dict  # name -> {"args": [...], "kwargs": {...}}: how the grader calls it
    data: dict  # {"name": loader, "kwargs": {...}}
    train: TrainSpec
    checks: tuple[Check, ...]
    sandbox: SandboxSpec = field(default_factory=SandboxSpec)
    source: str = ""
    raw: dict = field(default_factory=dict, compare=False)  # the JSON form, sent to trainers

    @property
    def max_score(self) -> float:
        return sum(c.points for c in self.checks)

    def check(self, grade_id: str) -> Check:
        for c in self.checks:
            if c.grade_id == grade_id:
                return c
        raise KeyError(f"no check {grade_id!r} in the {self.assignment} spec")


def _require(raw: dict, key: str, where: str):
    if key not in raw:
        raise SpecError(f"{where}: missing {key!r}; expected keys like {key!r}: ... (see specs/cnn.json)")
    return raw[key]


def from_dict(raw: dict, source: str = "<dict>") -> Spec:
    """Validate and convert a spec's JSON form."""
    functions = _require(raw, "functions", source)
    checks = []
    for i, c in enumerate(_require(raw, "checks", source)):
        where = f"{source}: checks[{i}]"
        kind = _require(c, "kind", where)
        if kind not in CHECK_KINDS:
            raise SpecError(f"{where}: kind {kind!r} is unknown; expected one of {CHECK_KINDS}")
        if c.get("function") not in functions:
            raise SpecError(f"{where}: function {c.get('function')!r} is not in 'functions' "
                            f"({', '.join(functions)})")
        if kind == "metric":
            floor, threshold = c.get("floor"), c.get("threshold")
            if floor is None or threshold is None or not floor < threshold:
                raise SpecError(f"{where}: a metric check needs floor < threshold, "
                                f"got floor={floor}, threshold={threshold}")
        expected = tuple(c["expected"]) if c.get("expected") is not None else None
        checks.append(Check(c["grade_id"], kind, c["function"], float(c["points"]),
                            c.get("metric"), c.get("floor"), c.get("threshold"), expected))
    ids = [c.grade_id for c in checks]
    if len(set(ids)) != len(ids):
        raise SpecError(f"{source}: grade ids must be unique, got {ids}")
    train = TrainSpec(**_require(raw, "train", source))
    if train.function not in functions:
        raise SpecError(f"{source}: train.function {train.function!r} is not in 'functions'")
    return Spec(
        assignment=_require(raw, "assignment", source), notebook=raw.get("notebook", raw["assignment"]),
        title=raw.get("title", raw["assignment"]), functions=functions,
        data=_require(raw, "data", source), train=train, checks=tuple(checks),
        sandbox=SandboxSpec(**raw.get("sandbox", {})), source=source, raw=raw,
    )


def available() -> list[str]:
    """Assignment ids that have a spec."""
    return sorted(p.stem for p in SPEC_DIR.glob("*.json"))


def load(assignment: str) -> Spec:
    """The spec for ``assignment`` (e.g. ``"cnn"``)."""
    path = SPEC_DIR / f"{assignment}.json"
    if not path.exists():
        raise SpecError(f"no grading spec for assignment {assignment!r}: expected {path}; "
                        f"known assignments: {', '.join(available()) or 'none'}")
    try:
        raw = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise SpecError(f"{path} is not valid JSON: {err}") from err
    return from_dict(raw, str(path))
