"""Architecture similarity: every builder's exported model as a canonical graph, compared pairwise
and grouped.

Identical graphs (same digest, see :mod:`.graph`) score 1. Others score the Jaccard overlap of
their features (layers with settings, connections, kinds by depth), at most 0.99. Unique
architectures are compared once each, so a batch where many students share an architecture costs
little. Architectures at least ``NEAR`` alike are grouped, each with what differs from the most
common one of its group.

As evidence, an identical architecture counts for less the more students share it (the textbook
model is everyone's), and a near-identical one counts as its similarity cubed.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field

import numpy as np

from . import graph as graphs

NEAR = 0.8  # near-identical: this alike or more


@dataclass
class Group:
    """Students whose ``function`` builds one architecture, or near-identical ones."""

    function: str
    members: dict  # digest -> [students], most common first
    lines: dict  # digest -> the architecture's lines
    differences: dict = field(default_factory=dict)  # digest -> what differs from the first

    @property
    def size(self) -> int:
        return sum(len(m) for m in self.members.values())


class Architectures:
    def __init__(self, students: list[str], models: dict[str, dict[str, dict]]):
        """``models``: builder -> {student: exported config}."""
        self.students = students
        self.index = {s: i for i, s in enumerate(students)}
        self.graphs: dict[str, dict] = {}
        self.errors: dict[str, dict] = {}
        for fn, configs in models.items():
            self.graphs[fn], self.errors[fn] = {}, {}
            for student, config in configs.items():
                try:
                    self.graphs[fn][student] = graphs.canonical(config)
                except (graphs.ConfigError, AttributeError, TypeError, KeyError) as err:
                    self.errors[fn][student] = str(err)[:200]
        self._unique = {fn: self._uniques(fn) for fn in self.graphs}

    def _uniques(self, fn: str):
        digests = sorted({g.digest for g in self.graphs[fn].values()})
        where = {d: i for i, d in enumerate(digests)}
        first = {}
        for student, g in self.graphs[fn].items():
            first.setdefault(g.digest, g)
        sim = _jaccard([graphs.features(first[d]) for d in digests])
        counts = {d: 0 for d in digests}
        for g in self.graphs[fn].values():
            counts[g.digest] += 1
        return digests, where, first, sim, counts

    def matrices(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(similarity, evidence, available) as n x n arrays, averaged over the builders that
        both students' exports hold."""
        n = len(self.students)
        total_sim, total_ev, count = np.zeros((n, n)), np.zeros((n, n)), np.zeros((n, n))
        for fn, by_student in self.graphs.items():
            digests, where, _, sim, counts = self._unique[fn]
            rows = np.array([self.index[s] for s in by_student], dtype=int)
            u = np.array([where[g.digest] for g in by_student.values()], dtype=int)
            if not len(rows):
                continue
            pair = sim[np.ix_(u, u)]
            share = np.array([counts[digests[k]] for k in u], dtype=float)
            identical = u[:, None] == u[None, :]
            evidence = np.where(identical, 2.0 / np.maximum(2.0, share)[:, None], pair ** 3)
            total_sim[np.ix_(rows, rows)] += pair
            total_ev[np.ix_(rows, rows)] += evidence
            count[np.ix_(rows, rows)] += 1
        with np.errstate(invalid="ignore", divide="ignore"):
            similarity = np.where(count > 0, total_sim / np.maximum(count, 1), 0.0)
            evidence = np.where(count > 0, total_ev / np.maximum(count, 1), 0.0)
        for m in (similarity, evidence, count):
            np.fill_diagonal(m, 0)
        return np.clip(similarity, 0, 1), np.clip(evidence, 0, 1), count > 0

    def shared_by(self, fn: str, student: str) -> int:
        g = self.graphs.get(fn, {}).get(student)
        return self._unique[fn][4][g.digest] if g is not None else 0

    def same(self, fn: str, a: str, b: str) -> bool | None:
        ga, gb = self.graphs.get(fn, {}).get(a), self.graphs.get(fn, {}).get(b)
        return None if ga is None or gb is None else ga.digest == gb.digest

    def similarity(self, fn: str, a: str, b: str) -> float | None:
        ga, gb = self.graphs.get(fn, {}).get(a), self.graphs.get(fn, {}).get(b)
        if ga is None or gb is None:
            return None
        _, where, _, sim, _ = self._unique[fn]
        return float(sim[where[ga.digest], where[gb.digest]])

    def groups(self, fn: str) -> list[Group]:
        """Identical and near-identical architectures of ``fn``, largest group first."""
        digests, where, first, sim, counts = self._unique[fn]
        members: dict[str, list] = {d: [] for d in digests}
        for student, g in self.graphs[fn].items():
            members[g.digest].append(student)
        out = []
        for component in _components(sim >= NEAR):
            ds = sorted((digests[k] for k in component), key=lambda d: (-counts[d], d))
            base = first[ds[0]]
            out.append(Group(fn, {d: sorted(members[d]) for d in ds},
                             {d: first[d].lines() for d in ds},
                             {d: differences(base, first[d]) for d in ds[1:]}))
        return sorted(out, key=lambda g: (-g.size, -len(g.members)))


def _jaccard(feature_lists: list[list[str]]) -> np.ndarray:
    from scipy import sparse

    vocab: dict[str, int] = {}
    rows, cols = [], []
    for i, feats in enumerate(feature_lists):
        for f in feats:
            rows.append(i)
            cols.append(vocab.setdefault(f, len(vocab)))
    m = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)),
                          shape=(len(feature_lists), max(1, len(vocab))))
    inter = (m @ m.T).toarray()
    sizes = np.asarray(m.sum(axis=1)).ravel()
    union = sizes[:, None] + sizes[None, :] - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        sim = np.where(union > 0, inter / union, 0.0)
    sim = np.minimum(sim, 0.99)
    np.fill_diagonal(sim, 1.0)
    return sim


def _components(adjacent: np.ndarray) -> list[list[int]]:
    seen, out = set(), []
    for start in range(len(adjacent)):
        if start in seen:
            continue
        stack, part = [start], []
        seen.add(start)
        while stack:
            i = stack.pop()
            part.append(i)
            for j in np.flatnonzero(adjacent[i]):
                if int(j) not in seen:
                    seen.add(int(j))
                    stack.append(int(j))
        out.append(sorted(part))
    return out


def side_by_side(a: graphs.Graph, b: graphs.Graph) -> list[tuple[str, str, str]]:
    """Rows (left line, right line, "same" / "changed" / "only-left" / "only-right")."""
    left, right = a.lines(), b.lines()
    rows = []
    matcher = difflib.SequenceMatcher(a=left, b=right, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            rows += [(left[i], right[j], "same") for i, j in zip(range(i1, i2), range(j1, j2))]
            continue
        for k in range(max(i2 - i1, j2 - j1)):
            li = left[i1 + k] if i1 + k < i2 else ""
            rj = right[j1 + k] if j1 + k < j2 else ""
            rows.append((li, rj, "changed" if li and rj else "only-left" if li else "only-right"))
    return rows


def differences(a: graphs.Graph, b: graphs.Graph) -> list[str]:
    """What differs from ``a`` to ``b``, one short line each."""
    out = []
    for left, right, state in side_by_side(a, b):
        if state == "changed":
            out.append(f"{left}  ->  {right}")
        elif state == "only-left":
            out.append(f"without {left}")
        elif state == "only-right":
            out.append(f"with {right}")
    return out
