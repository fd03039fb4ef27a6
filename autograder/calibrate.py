"""``course calibrate``: do an assignment's floors and thresholds separate right from wrong?

Every case is graded over N grading seeds on each backend, through the same sandbox and trusted
trainer as ``course grade``:

- the reference solution and the textbook models in ``fixtures/<id>/passing/`` must earn full
  marks on every seed and backend, with a margin above each threshold;
- every common mistake in ``fixtures/<id>/`` must lose points on every seed and backend (a
  fixture marked ``# calibrate: skip`` is hostile code around a correct model, not a mistake).

A case's sandbox runs once (its exports do not depend on the seed; values challenges for all
seeds are asked for in that one run); only the trusted side repeats per seed. For each metric
check the report lists every case's values and says whether the spec's numbers hold with margin,
proposes numbers when they do not, and says so when no threshold can separate the cases.
Which mistakes a check must catch is read from the results: on a given seed, a mistake counts
for a check when it loses points there, or when every other check gave it full marks (so this
check alone stands between it and full marks).
"""
from __future__ import annotations

import dataclasses
import json
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tqdm.auto import tqdm

from . import checks as chk
from . import fixtures, pipeline, scoring
from . import spec as specs
from .trusted.kinds import TaskResult
from .trusted.pool import WorkerPool
from .trusted.trainer_pool import SharedJobs
from .settings import DEFAULTS, CourseGrading
from .sandbox import runner

# how far from the threshold a noisy metric must stay: 10% of the credit band (threshold to
# floor) or 2% of the threshold itself, whichever is larger; a proportion (an accuracy) at
# least 0.05 as well, on each side (issue 17: a thin margin turns seed noise into grades)
MARGIN, MARGIN_OF_THRESHOLD = 0.1, 0.02
PROPORTION_MARGIN, PROPORTIONS = 0.05, frozenset({"accuracy", "heldout_accuracy"})
HOLDS, PROPOSED, INSEPARABLE = 0, 1, 3  # exit codes of `course calibrate`


@dataclass
class Case:
    name: str  # "reference", a fixture name, or "passing/<name>"
    must_pass: bool
    summary: str


@dataclass
class Outcome:
    case: str
    seed: int
    backend: str
    score: float
    max_score: float
    points: dict  # grade_id -> points
    values: dict  # grade_id -> the metric value (metric checks that were measured)
    reason: str
    seconds: float = 0.0

    @property
    def full(self) -> bool:
        return self.score >= self.max_score


@dataclass
class CheckVerdict:
    grade_id: str
    metric: str
    floor: float
    threshold: float
    lower_is_better: bool
    passing: list = field(default_factory=list)  # values of must-pass cases
    wrong: list = field(default_factory=list)  # values of mistakes this check must catch
    holds: bool = True
    separable: bool = True
    proposal: dict | None = None
    notes: list = field(default_factory=list)


def cases(assignment: str) -> list[Case]:
    out = [Case(fixtures.REFERENCE, True, fixtures.summary(assignment, fixtures.REFERENCE))]
    out += [Case(n, True, fixtures.summary(assignment, n)) for n in fixtures.passing(assignment)]
    out += [Case(n, False, fixtures.summary(assignment, n)) for n in fixtures.mistakes(assignment)]
    return out


# -- running -------------------------------------------------------------------------------
def _merged_calls(plans: dict[int, pipeline.Plan]) -> tuple[list[dict], dict[int, dict]]:
    """One list of sandbox calls for every seed's plan, and per seed {its key: merged key}."""
    merged, by_content, keymap = [], {}, {}
    for seed, plan in plans.items():
        keymap[seed] = {}
        for call in plan.calls:
            content = json.dumps({k: v for k, v in call.items() if k != "key"}, sort_keys=True)
            if content not in by_content:
                by_content[content] = f"c{len(merged)}"
                merged.append({**call, "key": by_content[content]})
            keymap[seed][call["key"]] = by_content[content]
    return merged, keymap


def _seed_view(export: runner.Export, keymap: dict) -> runner.Export:
    calls = {key: export.calls[merged] for key, merged in keymap.items()
             if merged in export.calls}
    return dataclasses.replace(export, calls=calls)


def sandbox_cases(spec: specs.Spec, chosen: list[Case], plans: dict[int, pipeline.Plan],
                  workdir: Path, progress: bool, parallel: int = DEFAULTS.calibration_sandboxes
                  ) -> tuple[dict[str, runner.Export], dict]:
    """Each case's notebook through the sandbox once, with every seed's calls."""
    calls, keymap = _merged_calls(plans)
    source = fixtures.source_notebook(spec.assignment)

    def one(case: Case) -> tuple[str, runner.Export]:
        nb = fixtures.submission_notebook(
            source, fixtures.solution_cells(source, spec.assignment, case.name))
        path = workdir / f"{case.name.replace('/', '__')}.ipynb"
        path.write_text(json.dumps(nb))
        return case.name, runner.run_notebook(path, spec, calls)

    exports = {}
    with ThreadPoolExecutor(max_workers=parallel) as threads, \
            tqdm(total=len(chosen), desc=f"sandbox {spec.assignment}", unit="case",
                 disable=not progress) as bar:
        for name, export in threads.map(one, chosen):
            exports[name] = export
            bar.update(1)
    return exports, keymap


def train_cases(spec: specs.Spec, chosen: list[Case], exports: dict, keymap: dict,
                plans: dict[int, pipeline.Plan], backend: str, workers: int | None,
                progress: bool) -> list[Outcome]:
    """Every (case, seed) through the trusted trainer on ``backend``."""
    env = {"KERAS_BACKEND": backend, "CUDA_VISIBLE_DEVICES": ""}
    jobs, views = [], {}
    for case in chosen:
        for seed, plan in plans.items():
            view = _seed_view(exports[case.name], keymap[seed])
            views[(case.name, seed)] = view
            if view.ok:
                jobs += [((case.name, seed, task), job) for task, job in plan.jobs(view).items()]
    results: dict = {}
    with WorkerPool(size=workers, envs=[env]) as workers_pool, \
            tqdm(total=len(jobs), desc=f"train {spec.assignment} ({backend})", unit="job",
                 disable=not progress) as bar:
        # cases that differ only in other functions (attention mistakes beside the reference's
        # model) send equal jobs: each trains once
        pool = SharedJobs(workers_pool)
        timeout = max(plan.limit(t) for plan in plans.values() for t in spec.tasks)
        for (name, seed, task), raw in pool.run(jobs, timeout=timeout):
            results.setdefault((name, seed), {})[task] = TaskResult.from_json(raw)
            bar.update(1)
    out = []
    for (name, seed), view in views.items():
        got = results.get((name, seed), {})
        checked = chk.evaluate(spec, view, got, figures=False)
        values = {}
        for check in spec.checks:
            result = got.get(check.task)
            if check.kind == "metric" and result is not None and result.ok \
                    and check.metric in result.metrics:
                values[check.grade_id] = float(result.metrics[check.metric])
        score = round(sum(c.points for c in checked), 2)
        out.append(Outcome(name, seed, backend, score, sum(c.max_points for c in checked),
                           {c.grade_id: c.points for c in checked}, values,
                           chk.reason_line(checked),
                           sum(r.timings.get("fit", 0.0) for r in got.values())))
    return out


def run(assignment: str, seeds: int, backends: list[str], *, workers: int | None = None,
        progress: bool = True, only: list[str] | None = None, first_seed: int = 0,
        settings: CourseGrading = DEFAULTS) -> dict:
    """Grade every case over ``seeds`` grading seeds (``first_seed`` onwards) on each backend."""
    spec = specs.load(assignment)
    known = cases(assignment)
    unknown = sorted(set(only or []) - {c.name for c in known})
    if unknown:
        raise specs.SpecError(f"no case {', '.join(unknown)} for {assignment}: expected some of "
                              f"{', '.join(c.name for c in known)}")
    chosen = [c for c in known if only is None or c.name in only]
    plans = {seed: pipeline.Plan(spec, grading_seed=seed)
             for seed in range(first_seed, first_seed + seeds)}
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="course-calibrate-") as tmp:
        exports, keymap = sandbox_cases(spec, chosen, plans, Path(tmp), progress,
                                        settings.calibration_sandboxes)
    outcomes = []
    for backend in backends:
        outcomes += train_cases(spec, chosen, exports, keymap, plans, backend, workers, progress)
    return {"spec": spec, "cases": chosen, "seeds": seeds, "backends": backends,
            "outcomes": outcomes, "seconds": round(time.perf_counter() - t0, 1)}


# -- judging -------------------------------------------------------------------------------
def _others_full(spec: specs.Spec, outcome: Outcome, grade_id: str) -> bool:
    return all(outcome.points.get(c.grade_id, 0.0) >= c.points
               for c in spec.checks if c.grade_id != grade_id)


def judge(spec: specs.Spec, chosen: list[Case], outcomes: list[Outcome]) -> list[CheckVerdict]:
    """Per metric check: do its floor and threshold separate the cases, with margin? A check
    no outcome measured (added to the spec after the runs that were merged) is not judged."""
    must = {c.name: c.must_pass for c in chosen}
    verdicts = []
    measured = {gid for o in outcomes for gid in o.values}
    for check in (c for c in spec.checks if c.kind == "metric" and c.grade_id in measured):
        v = CheckVerdict(check.grade_id, check.metric, check.floor, check.threshold,
                         check.lower_is_better)
        for o in outcomes:
            if check.grade_id not in o.values:
                continue
            if check.requires and o.points.get(check.requires, 0.0) <= 0 and not must[o.case]:
                continue  # not judged there (its required check earned nothing): no evidence
            if must[o.case]:
                v.passing.append(o.values[check.grade_id])
            elif o.points.get(check.grade_id, 0.0) < check.points \
                    or _others_full(spec, o, check.grade_id):
                v.wrong.append(o.values[check.grade_id])
        _decide(v)
        verdicts.append(v)
    return verdicts


def required_margin(v: CheckVerdict) -> float:
    """How far the noisy values of ``v``'s cases must stay from its threshold."""
    wide = max(MARGIN * abs(v.threshold - v.floor), MARGIN_OF_THRESHOLD * abs(v.threshold))
    return max(wide, PROPORTION_MARGIN) if v.metric in PROPORTIONS else wide


def _decide(v: CheckVerdict) -> None:
    sign = -1.0 if v.lower_is_better else 1.0  # compare as "higher is better"
    margin = required_margin(v)
    good = [sign * x for x in v.passing]
    bad = [sign * x for x in v.wrong]
    thr = sign * v.threshold
    if good:
        need = margin if max(good) > min(good) else 0.0  # an exact metric needs no margin
        if min(good) < thr + need:
            v.holds = False
            v.notes.append(f"a must-pass value {sign * min(good):.3f} is within {margin:.3f} "
                           f"of the threshold {v.threshold:g} (or beyond it)")
    if bad:
        need = margin if max(bad) > min(bad) else 0.0
        if max(bad) > thr - need:
            v.holds = False
            v.notes.append(f"a mistake reaches {sign * max(bad):.3f}, within {margin:.3f} of "
                           f"the threshold {v.threshold:g} (or beyond it)")
        partial = [x for x in bad if x > sign * v.floor]
        if partial:
            v.notes.append(f"{len(partial)} of {len(bad)} mistake values earn partial credit "
                           f"(beyond the floor {v.floor:g})")
    if good and bad and max(bad) >= min(good):
        v.separable = False
        v.holds = False
        v.notes.append("no threshold separates them: a mistake scores as well as a must-pass "
                       "case; change the task or the budget")
    elif not v.holds and good and bad:
        gap = min(good) - max(bad)
        threshold = max(bad) + gap / 2
        floor = max(bad) + gap / 10
        v.proposal = {"floor": round(sign * floor, 3), "threshold": round(sign * threshold, 3)}


def exit_code(verdicts: list[CheckVerdict], outcomes: list[Outcome], chosen: list[Case]) -> int:
    if not all(v.separable for v in verdicts):
        return INSEPARABLE
    must = {c.name: c.must_pass for c in chosen}
    wrong_grades = any(o.full != must[o.case] for o in outcomes)
    return HOLDS if all(v.holds for v in verdicts) and not wrong_grades else PROPOSED


def rescored(spec: specs.Spec, o: Outcome) -> Outcome:
    """``o`` with its metric checks' points recomputed from their values under ``spec``'s
    floors and thresholds (which may have moved since ``o`` was graded)."""
    points = dict(o.points)
    for check in spec.checks:  # in spec order, so a required check is re-scored first
        if check.kind == "metric" and check.grade_id in o.values:
            earned = scoring.linear_credit(o.values[check.grade_id], floor=check.floor,
                                           threshold=check.threshold, points=check.points)
            if chk.unmet_requirement(check, points):
                earned = 0.0
            points[check.grade_id] = earned
    return dataclasses.replace(o, points=points, score=round(sum(points.values()), 2))


def from_records(assignment: str, paths: list[Path], only: list[str] | None = None) -> dict:
    """A run rebuilt from the outcome files of earlier runs (``<id>.json`` beside each report),
    merged and re-scored under today's spec: re-judge a moved threshold without training, or
    join runs made one backend at a time. ``only`` keeps those cases (e.g. without a fixture
    retired since the run)."""
    spec = specs.load(assignment)
    cases_by_name, outcomes, backends, seeds, seconds = {}, {}, [], [], 0.0
    for path in paths:
        raw = json.loads(Path(path).read_text())
        if raw["assignment"] != assignment:
            raise specs.SpecError(f"{path}: outcomes of {raw['assignment']!r}, expected "
                                  f"{assignment!r}")
        cases_by_name.update({c["name"]: Case(**c) for c in raw["cases"]
                              if not only or c["name"] in only})
        for o in raw["outcomes"]:
            if only and o["case"] not in only:
                continue
            outcome = rescored(spec, Outcome(**o))
            outcomes[(outcome.case, outcome.seed, outcome.backend)] = outcome  # later files win
        backends += [b for b in raw["backends"] if b not in backends]
        seeds.append(raw["seeds"])
        seconds += raw["seconds"]
    merged = list(outcomes.values())
    least = min((len(s) for s in seeds_by_backend(merged).values()), default=min(seeds))
    return {"spec": spec, "cases": list(cases_by_name.values()), "seeds": least,
            "backends": backends, "outcomes": merged, "seconds": round(seconds, 1)}


def seeds_by_backend(outcomes: list[Outcome]) -> dict[str, list[int]]:
    """The grading seeds each backend was graded on (runs merged with ``--from`` may differ)."""
    found: dict[str, set[int]] = {}
    for o in outcomes:
        found.setdefault(o.backend, set()).add(o.seed)
    return {backend: sorted(seeds) for backend, seeds in found.items()}


def outcomes_json(run: dict) -> dict:
    """Every graded (case, seed, backend), for the record and for re-judging without training."""
    return {"assignment": run["spec"].assignment, "seeds": run["seeds"],
            "backends": run["backends"], "seconds": run["seconds"],
            "cases": [asdict(c) for c in run["cases"]],
            "outcomes": [asdict(o) for o in run["outcomes"]]}


def summary(run: dict, verdicts: list[CheckVerdict], code: int, report: Path) -> dict:
    """What the spec records about the calibration it rests on."""
    per_check = {}
    for v in verdicts:
        entry = {"must_pass": [round(min(v.passing), 4), round(max(v.passing), 4)]
                 if v.passing else None,
                 "mistakes": [round(min(v.wrong), 4), round(max(v.wrong), 4)]
                 if v.wrong else None,
                 "holds": v.holds}
        per_check[v.grade_id] = entry
    return {"report": str(report), "date": time.strftime("%Y-%m-%d"), "seeds": run["seeds"],
            "seeds_by_backend": seeds_by_backend(run["outcomes"]), "backends": run["backends"],
            "cases": [c.name for c in run["cases"]],
            "exit_code": code, "checks": per_check}


def record(assignment: str, info: dict) -> Path:
    """Write ``info`` into the spec file's ``calibration`` (the file's last key), keeping the
    hand-written layout of everything above it and any existing ``note``."""
    path = specs.SPEC_DIR / f"{assignment}.json"
    text = path.read_text()
    raw = json.loads(text)
    if list(raw)[-1] != "calibration":
        raise specs.SpecError(f"{path}: expected 'calibration' as the last key so it can be "
                              "rewritten in place; move it to the end of the file")
    start = text.rfind('"calibration"')
    block = {**({"note": raw["calibration"]["note"]} if "note" in raw["calibration"] else {}),
             **info}
    body = ",\n".join(f"    {json.dumps(k)}: {json.dumps(v)}" for k, v in block.items())
    new = text[:start] + f'"calibration": {{\n{body}\n  }}\n}}\n'
    if {k: v for k, v in json.loads(new).items() if k != "calibration"} != \
            {k: v for k, v in raw.items() if k != "calibration"}:
        raise specs.SpecError(f"{path}: rewriting 'calibration' would change other keys")
    path.write_text(new)
    return path
