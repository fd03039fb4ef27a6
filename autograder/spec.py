"""Grading specs: one JSON file per assignment, validated into frozen dataclasses.

A spec says which functions a submission must define (and how the sandbox calls them), the
*tasks* the trusted side runs on what the sandbox exported (each of a kind: ``classifier``,
``values`` or ``gan``, see :mod:`autograder.trusted.kinds`), and the checks with their points.
Thresholds, budgets and caps live here, not in code. The same :func:`from_dict` validates the
file in the grading process and the job in every trusted worker, so defaults exist once.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from .sandbox.protocol import OUTPUT_CHARS

SPEC_DIR = Path(__file__).with_name("specs")
KINDS = ("classifier", "values", "gan")
CHECK_KINDS = ("builds", "output_shape", "compiled", "metric")
MODEL_CHECKS = ("builds", "output_shape", "compiled")  # about an exported model, not a metric


class SpecError(ValueError):
    """A spec file is missing or malformed."""


@dataclass(frozen=True)
class Check:
    grade_id: str  # the nbgrader grade cell this check scores
    kind: str  # one of CHECK_KINDS
    task: str
    function: str  # the function whose model a model check looks at
    points: float
    metric: str | None = None
    floor: float | None = None  # zero points here (and beyond, away from the threshold)
    threshold: float | None = None  # full points here; floor > threshold: lower is better
    expected: tuple | None = None  # output_shape checks
    # the grade id of an earlier check that must earn points for this one to be judged (a
    # generator of blank images "memorises" nothing, which is no achievement)
    requires: str | None = None

    @property
    def lower_is_better(self) -> bool:
        return self.floor is not None and self.threshold is not None and self.floor > self.threshold


@dataclass(frozen=True)
class Caps:
    max_params: int = 1_000_000
    max_activations: int = 5_000_000  # output elements per example, summed over layers


@dataclass(frozen=True)
class Task:
    """One unit of trusted work on a submission's exports."""

    name: str
    kind: str  # one of KINDS
    functions: tuple[str, ...]  # the exported functions it uses, in role order
    seed: int = 0
    data: dict | None = None  # {"name": loader, "kwargs": {...}} (classifier, gan)
    budget: dict = field(default_factory=dict)  # kind-specific (epochs/steps, batch_size, ...)
    caps: Caps = field(default_factory=Caps)
    options: dict = field(default_factory=dict)  # kind-specific extras (challenge, latent_dim)

    @property
    def function(self) -> str:
        return self.functions[0]


@dataclass(frozen=True)
class SandboxSpec:
    """Limits on the process that runs a student's notebook (safe defaults; a spec may tighten
    or loosen each)."""

    wall_seconds: float = 120  # the whole notebook, import of Keras included
    cpu_seconds: float = 240  # RLIMIT_CPU: SIGXCPU past it
    memory_mb: int = 6144  # address space on top of what the backend reserved at import
    processes: int = 512  # RLIMIT_NPROC: fork floods fail
    file_mb: int = 64  # RLIMIT_FSIZE: no file (or log) grows past it
    open_files: int = 256  # RLIMIT_NOFILE
    output_chars: int = OUTPUT_CHARS  # printed output kept per cell (the rest dropped as it comes)
    scratch_mb: int = 256  # the writable working directory, and /tmp, each (in the jail)

    def limits(self) -> dict:
        return {"cpu_seconds": self.cpu_seconds, "memory_mb": self.memory_mb,
                "processes": self.processes, "file_mb": self.file_mb,
                "open_files": self.open_files, "output_chars": self.output_chars}


@dataclass(frozen=True)
class Spec:
    assignment: str
    notebook: str
    title: str
    functions: dict  # name -> {"args": [...], "kwargs": {...}}: how the sandbox calls it
    tasks: dict  # name -> Task, in spec order
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
        raise KeyError(f"no check {grade_id!r} in the {self.assignment} spec; known: "
                       f"{', '.join(c.grade_id for c in self.checks)}")

    def checks_of(self, task: str) -> list[Check]:
        return [c for c in self.checks if c.task == task]


def _require(raw: dict, key: str, where: str):
    if not isinstance(raw, dict) or key not in raw:
        raise SpecError(f"{where}: missing {key!r}; expected keys like {key!r}: ... "
                        "(see autograder/specs/cnn.json)")
    return raw[key]


TASK_ROLES = {"gan": ("generator", "discriminator")}  # kinds with several functions, by role
TASK_KEYS = {"kind", "function", "seed", "data", "budget", "max_params", "max_activations",
             *TASK_ROLES["gan"]}


NUMBER = (int, float)
# what a task kind's "budget" may hold: (required keys, optional keys), each with its type; a
# misspelt or missing key fails when the spec loads, never at grading time (issue 19)
BUDGETS = {
    "classifier": ({"epochs": int},
                   {"batch_size": int, "patience": int, "max_seconds": NUMBER,
                    "steps_per_epoch": int, "memory_mb": int}),
    "gan": ({"steps": int}, {"batch_size": int, "max_seconds": NUMBER, "memory_mb": int}),
    "values": ({}, {"memory_mb": int}),
}


def _checked_keys(values: dict, table: tuple[dict, dict], kind: str, where: str, *,
                  allowed: str, wrong, hint: str = "") -> None:
    """Refuse a key of ``values`` that ``table`` (required, optional: key -> type) does not
    name, a value for which ``wrong(value, type)`` says what was expected instead, and a
    required key that is missing."""
    required, optional = table
    known = {**required, **optional}
    for key, value in values.items():
        if key not in known:
            raise SpecError(f"{where}: unknown key {key!r} for a {kind} task; expected some of "
                            f"{allowed} (a misspelling?)")
        expected = wrong(value, known[key])
        if expected:
            raise SpecError(f"{where}.{key}: expected {expected}, got {value!r}")
    for key in required:
        if key not in values:
            raise SpecError(f"{where}: missing {key!r}, which a {kind} task needs"
                            + hint.format(key=key))


def _not_positive(value, kind) -> str | None:
    if isinstance(value, bool) or not isinstance(value, kind) or value <= 0:
        return "a positive integer" if kind is int else "a positive number"
    return None


def _not_of_type(value, kind) -> str | None:
    return kind.__name__ if isinstance(value, bool) or not isinstance(value, kind) else None


def _budget(kind: str, raw, where: str) -> dict:
    """The task's budget, checked against :data:`BUDGETS` (keys, types, positive values)."""
    if not isinstance(raw, dict):
        raise SpecError(f"{where}.budget: expected an object like {{\"epochs\": 10}}, got {raw!r}")
    _checked_keys(raw, BUDGETS[kind], kind, f"{where}.budget",
                  allowed=", ".join({**BUDGETS[kind][0], **BUDGETS[kind][1]}),
                  wrong=_not_positive, hint=' (e.g. "{key}": 10)')
    return dict(raw)


# what a task kind may hold besides TASK_KEYS: (required, optional), each with its type
OPTIONS = {
    "classifier": ({}, {}),
    "gan": ({"latent_dim": int, "image_shape": list}, {"samples": int}),
    "values": ({"challenge": dict}, {}),
}


def _options(kind: str, raw: dict, where: str) -> dict:
    """The task's other keys, checked against :data:`OPTIONS`."""
    options = {k: v for k, v in raw.items() if k not in TASK_KEYS}
    known = {*OPTIONS[kind][0], *OPTIONS[kind][1]}
    _checked_keys(options, OPTIONS[kind], kind, where,
                  allowed=", ".join(sorted(TASK_KEYS | known)), wrong=_not_of_type)
    if kind == "values":
        _named(options["challenge"], f"{where}.challenge", challenges())
    return options


def _named(raw: dict, where: str, known) -> None:
    """``{"name": one of known, "kwargs": {...}}`` and nothing else."""
    if not isinstance(raw, dict) or set(raw) - {"name", "kwargs"}:
        raise SpecError(f"{where}: expected {{\"name\": ..., \"kwargs\": {{...}}}}, got {raw!r}")
    if raw.get("name") not in known:
        raise SpecError(f"{where}.name: unknown {raw.get('name')!r}; expected one of "
                        f"{', '.join(sorted(known))}")
    if not isinstance(raw.get("kwargs", {}), dict):
        raise SpecError(f"{where}.kwargs: expected an object, got {raw['kwargs']!r}")


def challenges() -> list[str]:
    """The challenge modules a values task may name (``autograder/trusted/challenges/*.py``)."""
    folder = Path(__file__).resolve().parent / "trusted" / "challenges"
    return [p.stem for p in folder.glob("*.py") if p.stem != "__init__"]


def _data(raw, where: str) -> dict:
    """``{"name": a loader of course.data.loaders(), "kwargs": what that loader takes}``."""
    import inspect

    from course import data

    loaders = data.loaders()
    _named(raw, f"{where}.data", loaders)
    try:
        inspect.signature(loaders[raw["name"]]).bind(**raw.get("kwargs", {}))
    except TypeError as err:
        raise SpecError(f"{where}.data.kwargs: the loader {raw['name']!r} refuses them ({err}); "
                        f"expected its parameters: {inspect.signature(loaders[raw['name']])}"
                        ) from None
    return raw


def _task(name: str, raw: dict, functions: dict, where: str) -> Task:
    kind = _require(raw, "kind", where)
    if kind not in KINDS:
        raise SpecError(f"{where}: kind {kind!r} is unknown; expected one of {KINDS}")
    roles = TASK_ROLES.get(kind, ("function",))
    names = tuple(_require(raw, role, where) for role in roles)
    for fn in names:
        if fn not in functions:
            raise SpecError(f"{where}: function {fn!r} is not in 'functions' ({', '.join(functions)})")
    if kind != "values" and not isinstance(raw.get("data"), dict):
        raise SpecError(f"{where}: a {kind} task needs 'data': {{\"name\": loader, \"kwargs\": {{}}}}")
    if kind == "values" and not isinstance(raw.get("challenge"), dict):
        raise SpecError(f"{where}: a values task needs 'challenge': {{\"name\": module, \"kwargs\": {{}}}}")
    caps = Caps(**{k: int(raw[k]) for k in ("max_params", "max_activations") if k in raw})
    data = _data(raw["data"], where) if kind != "values" else raw.get("data")
    return Task(name, kind, names, int(raw.get("seed", 0)), data,
                _budget(kind, raw.get("budget", {}), where), caps, _options(kind, raw, where))


def _check(raw: dict, tasks: dict, where: str) -> Check:
    kind = _require(raw, "kind", where)
    if kind not in CHECK_KINDS:
        raise SpecError(f"{where}: kind {kind!r} is unknown; expected one of {CHECK_KINDS}")
    task = tasks.get(_require(raw, "task", where))
    if task is None:
        raise SpecError(f"{where}: task {raw['task']!r} is not in 'tasks' ({', '.join(tasks)})")
    function = raw.get("function", task.function)
    if function not in task.functions:
        raise SpecError(f"{where}: function {function!r} is not used by task {task.name!r} "
                        f"({', '.join(task.functions)})")
    if kind in MODEL_CHECKS and task.kind == "values":
        raise SpecError(f"{where}: a {kind} check needs a model; task {task.name!r} returns values")
    floor, threshold = raw.get("floor"), raw.get("threshold")
    if kind == "metric":
        if not raw.get("metric"):
            raise SpecError(f"{where}: a metric check needs 'metric' (e.g. \"accuracy\")")
        if floor is None or threshold is None or floor == threshold:
            raise SpecError(f"{where}: a metric check needs a floor and a threshold that differ, "
                            f"got floor={floor}, threshold={threshold}")
    expected = tuple(raw["expected"]) if raw.get("expected") is not None else None
    return Check(_require(raw, "grade_id", where), kind, task.name, function,
                 float(_require(raw, "points", where)), raw.get("metric"), floor, threshold,
                 expected, raw.get("requires"))


def from_dict(raw: dict, source: str = "<dict>") -> Spec:
    """Validate and convert a spec's JSON form."""
    functions = _require(raw, "functions", source)
    raw_tasks = _require(raw, "tasks", source)
    if not isinstance(functions, dict) or not isinstance(raw_tasks, dict) or not raw_tasks:
        raise SpecError(f"{source}: 'functions' and 'tasks' must be non-empty objects")
    tasks = {name: _task(name, t, functions, f"{source}: tasks.{name}")
             for name, t in raw_tasks.items()}
    checks = tuple(_check(c, tasks, f"{source}: checks[{i}]")
                   for i, c in enumerate(_require(raw, "checks", source)))
    ids = [c.grade_id for c in checks]
    if len(set(ids)) != len(ids):
        raise SpecError(f"{source}: grade ids must be unique, got {ids}")
    for i, c in enumerate(checks):
        if c.requires is not None and c.requires not in ids[:i]:
            raise SpecError(f"{source}: checks[{i}] ({c.grade_id}) requires {c.requires!r}, "
                            f"expected the grade id of an earlier check: {ids[:i]}")
    return Spec(
        assignment=_require(raw, "assignment", source), notebook=raw.get("notebook", raw["assignment"]),
        title=raw.get("title", raw["assignment"]), functions=functions, tasks=tasks,
        checks=checks, sandbox=SandboxSpec(**raw.get("sandbox", {})), source=source, raw=raw,
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
