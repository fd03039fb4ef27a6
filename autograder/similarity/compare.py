"""All pairs of one batch compared on code, architecture and values, in order: load, fingerprint,
canonicalise, combine, flag. Every channel is one n x n matrix, so the cost is the n submissions'
preparation plus a few matrix products, not a loop over n^2 pairs."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from . import scoring
from . import values as value_scores
from .architecture import Architectures
from .code import Fingerprints
from .submissions import Batch


@dataclass
class Pair:
    a: str
    b: str
    code: float
    architecture: float
    values: float
    combined: float
    flagged: bool


@dataclass
class Comparison:
    batch: Batch
    students: list
    code: np.ndarray
    architecture: np.ndarray  # similarity
    arch_evidence: np.ndarray
    arch_available: np.ndarray
    values: np.ndarray
    combined: np.ndarray
    stats: scoring.Batchwide
    channel_stats: dict
    fingerprints: Fingerprints
    architectures: Architectures
    shared_answers: dict  # call key -> [[students with one same wrong answer]]
    common_dropped: int  # code fingerprints dropped as common to the task
    seconds: dict = field(default_factory=dict)

    def pairs(self) -> list[Pair]:
        """Every pair (a before b in student order), ranked by combined score."""
        i, j = np.triu_indices(len(self.students), k=1)
        order = np.lexsort((j, i, -self.combined[i, j]))
        cutoff = self.stats.cutoff
        return [Pair(self.students[i[k]], self.students[j[k]], float(self.code[i[k], j[k]]),
                     float(self.architecture[i[k], j[k]]), float(self.values[i[k], j[k]]),
                     float(self.combined[i[k], j[k]]),
                     bool(self.combined[i[k], j[k]] >= cutoff)) for k in order]

    def pair(self, a: str, b: str) -> Pair:
        i, j = self.students.index(a), self.students.index(b)
        c = float(self.combined[i, j])
        return Pair(a, b, float(self.code[i, j]), float(self.architecture[i, j]),
                    float(self.values[i, j]), c, c >= self.stats.cutoff)


def compare(batch: Batch) -> Comparison:
    t = {"start": time.perf_counter()}
    students = [s.student for s in batch.submissions]
    prints = Fingerprints({s.student: s.code for s in batch.submissions}, batch.release_code)
    code, dropped = prints.scores()
    t["code"] = time.perf_counter()
    models = {fn: {s.student: s.models[fn] for s in batch.submissions if fn in s.models}
              for fn in batch.model_functions}
    archs = Architectures(students, models)
    arch_sim, arch_ev, arch_ok = archs.matrices()
    t["architecture"] = time.perf_counter()
    answers: dict[str, dict] = {}
    right: dict[str, set] = {}
    for task, fn in batch.value_tasks.items():
        for s in batch.submissions:
            for key, value in s.values.items():
                if key.startswith(f"{fn}#"):
                    answers.setdefault(key, {})[s.student] = value
                    if s.full_marks.get(task):
                        right.setdefault(key, set()).add(s.student)
    vals, shared = value_scores.scores(students, answers, right)
    t["values"] = time.perf_counter()
    combined = scoring.combine(code, arch_ev, arch_ok, vals, bool(batch.value_tasks))
    np.fill_diagonal(combined, 0.0)
    i, j = np.triu_indices(len(students), k=1)
    stats = scoring.batchwide(combined[i, j])
    channel_stats = {"code": scoring.robust(code[i, j]),
                     "architecture": scoring.robust(arch_ev[i, j][arch_ok[i, j]]),
                     "values": scoring.robust(vals[i, j])}
    t["combine"] = time.perf_counter()
    seconds = {k: round(t[k] - t[prev], 3) for prev, k in
               zip(["start", "code", "architecture", "values"],
                   ["code", "architecture", "values", "combine"])}
    return Comparison(batch, students, code, arch_sim, arch_ev, arch_ok, vals, combined, stats,
                      channel_stats, prints, archs, shared, dropped, seconds)


def reasons(c: Comparison, a: str, b: str) -> list[str]:
    """Why a pair is listed, in words a person can check."""
    i, j = c.students.index(a), c.students.index(b)
    out = []
    code = c.code[i, j]
    if code > 0:
        out.append(f"code: on average {code:.0%} of each side's fingerprints (the release's "
                   f"code left out) also occur in the other; {_z(c.channel_stats['code'], code)}")
    for fn in c.batch.model_functions:
        same = c.architectures.same(fn, a, b)
        if same is None:
            continue
        if same:
            k = c.architectures.shared_by(fn, a)
            out.append(f"architecture of {fn}: identical graph, built by {k} of "
                       f"{len(c.students)} submissions" + (" (only these two)" if k == 2 else ""))
        else:
            sim = c.architectures.similarity(fn, a, b)
            if sim is not None and sim >= 0.8:
                out.append(f"architecture of {fn}: near-identical ({sim:.0%} of layers, settings "
                           "and connections shared)")
    for key, groups in c.shared_answers.items():
        for members in groups:
            if a in members and b in members:
                out.append(f"values: the same wrong answer on grading challenge {key}, "
                           f"returned by {len(members)} submission(s)")
    return out


def _z(stats: scoring.Batchwide, score: float) -> str:
    return (f"{stats.z(score):+.1f} robust SD from the batch median {stats.median:.2f}")
