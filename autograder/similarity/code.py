"""Code similarity by winnowing (MOSS's method), with ``copydetect`` doing the fingerprinting.

Each submission's code is first laid out one way (parsed by Python's ``ast`` and written back:
line breaks, brackets, trailing commas and comments of the original no longer count; the code is
parsed, never run), then tokenized (names become ``V``/``F``, strings ``S``, so renaming changes
nothing either), cut into k-grams
and winnowed to a set of fingerprints; the released notebook's own fingerprints are removed as
boilerplate, and so are those that more than a few submissions share (what the task makes
everyone write, as MOSS's ``-m`` does). A pair's score is the mean of the two shares (of A's
fingerprints found in B, of B's found in A): a short answer inside a long one is not a copy of
it. Fingerprints are a set, so reordering functions changes little.

All pairs at once: one sparse matrix of fingerprints per submission, multiplied by its
transpose, gives every pair's overlap (125,000 pairs in well under a second).
"""
from __future__ import annotations

import ast
import io
import logging
import re

import numpy as np

NOISE = 25  # copydetect's defaults: matches shorter than this many tokens are noise,
GUARANTEE = 30  # matches at least this long are always found (window = 30 - 25 + 1)
COMMON_AT_LEAST = 10  # MOSS -m: a fingerprint in more submissions than this is the task's
COMMON_SHARE = 0.1  # ... or in more than this share of them, whichever is larger
MIN_FINGERPRINTS = 8  # below this a score is scaled down: too little code to tell


CELL_HEADER = re.compile(r"^# --- cell .* ---$", re.M)  # written by submissions.notebook_code


def normalise(text: str) -> str:
    """``text`` as ``ast.unparse`` writes it, cell by cell (a cell Python cannot parse stays as
    it is): one statement per line, one style of brackets, quotes and commas, no comments."""
    headers = CELL_HEADER.findall(text)
    bodies = CELL_HEADER.split(text)
    out = [_unparse(bodies[0])] if bodies[0].strip() else []
    for header, body in zip(headers, bodies[1:]):
        out.append(f"{header}\n{_unparse(body)}")
    return "\n".join(out) + "\n"


def _unparse(source: str) -> str:
    try:
        return ast.unparse(ast.parse(source)).strip()
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return source.strip()


def kgram_hashes(text: str, k: int = NOISE) -> np.ndarray:
    """A hash of every k-character window of ``text``, the same in every process.

    copydetect hashes k-grams with Python's ``hash``, which each process seeds at random
    (PYTHONHASHSEED): winnowing then keeps other fingerprints and a pair's score moves from run
    to run. This is a polynomial hash over the code points, modulo 2**64 (numpy's unsigned
    arithmetic wraps)."""
    points = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    n = len(points) - k + 1
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    hashes = np.zeros(n, dtype=np.uint64)
    base = np.uint64(1_000_003)
    for j in range(k):
        hashes = hashes * base + points[j:j + n]
    return hashes.view(np.int64)


def _winnowed(code: str, boilerplate) -> tuple[set, dict]:
    """(fingerprints, fingerprint -> positions) of ``code`` as copydetect's
    ``get_document_fingerprints`` selects them, over ``kgram_hashes``."""
    from copydetect.utils import winnow

    hashes, idx = winnow(kgram_hashes(code), GUARANTEE - NOISE + 1, remove_duplicates=False)
    if boilerplate is not None and len(boilerplate):
        keep = ~np.isin(hashes, boilerplate)
        hashes, idx = hashes[keep], idx[keep]
    positions: dict = {}
    for value, i in zip(hashes.tolist(), idx.tolist()):
        positions.setdefault(value, []).append(i)
    return set(positions), positions


def _fingerprint(text: str, boilerplate=None):
    from copydetect import CodeFingerprint
    from copydetect.utils import get_token_coverage

    logging.getLogger().setLevel(max(logging.getLogger().level, logging.ERROR))
    fp = CodeFingerprint("submission.py", NOISE, GUARANTEE - NOISE + 1, fp=io.StringIO(text))
    fp.hashes, fp.hash_idx = _winnowed(fp.filtered_code, boilerplate)
    fp.token_coverage = get_token_coverage(fp.hash_idx, NOISE, len(fp.filtered_code))
    return fp


class Fingerprints:
    """Fingerprints of many submissions against one release, and every pair's score."""

    def __init__(self, texts: dict[str, str], release: str = ""):
        base = _fingerprint(normalise(release)) if release.strip() else None
        self.boilerplate = np.array(sorted(base.hashes), dtype=np.int64) if base else None
        self.students = list(texts)
        self.original = dict(texts)
        self.prints = {s: _fingerprint(normalise(texts[s]), self.boilerplate)
                       for s in self.students}

    def matrix(self) -> tuple[np.ndarray, np.ndarray, int]:
        """(overlap counts n x n, fingerprint counts n, fingerprints dropped as common)."""
        from scipy import sparse

        sets = [np.fromiter(self.prints[s].hashes, dtype=np.int64,
                            count=len(self.prints[s].hashes)) for s in self.students]
        rows = np.repeat(np.arange(len(sets)), [len(x) for x in sets])
        flat = np.concatenate(sets) if sets else np.zeros(0, dtype=np.int64)
        _, cols = np.unique(flat, return_inverse=True)
        m = sparse.csr_matrix((np.ones(len(flat), dtype=np.int32), (rows, cols)),
                              shape=(len(sets), int(cols.max()) + 1 if len(cols) else 0))
        m.data[:] = 1  # a set: duplicates count once
        m.sum_duplicates()
        m.data[:] = 1
        frequency = np.asarray(m.sum(axis=0)).ravel()
        limit = max(COMMON_AT_LEAST, int(COMMON_SHARE * len(sets)))
        common = frequency > limit
        if common.any():
            m = m[:, np.flatnonzero(~common)]
        overlap = (m @ m.T).toarray()
        sizes = np.asarray(m.sum(axis=1)).ravel()
        return overlap, sizes, int(common.sum())

    def scores(self) -> tuple[np.ndarray, int]:
        """(pair scores n x n in [0, 1], fingerprints dropped as common to the task)."""
        overlap, sizes, dropped = self.matrix()
        smaller = np.minimum.outer(sizes, sizes).astype(float)
        inverse = np.where(sizes > 0, 1.0 / np.maximum(sizes, 1), 0.0)
        score = overlap * (inverse[:, None] + inverse[None, :]) / 2.0
        score *= np.minimum(1.0, smaller / MIN_FINGERPRINTS)
        np.fill_diagonal(score, 0.0)
        return np.clip(score, 0.0, 1.0), dropped

    def matching_lines(self, a: str, b: str) -> tuple[set[int], set[int]]:
        """Line numbers (from 0) of each side's code as compared (``prints[x].raw_code``, the
        normalised code) that the other side also has."""
        from copydetect import compare_files

        fa, fb = self.prints[a], self.prints[b]
        if not fa.hashes & fb.hashes:
            return set(), set()
        _, _, (slices_a, slices_b) = compare_files(fa, fb)
        return _lines(fa.raw_code, slices_a), _lines(fb.raw_code, slices_b)


def _lines(text: str, slices) -> set[int]:
    starts = np.cumsum([0] + [len(line) + 1 for line in text.split("\n")])
    marked: set[int] = set()
    for begin, end in zip(*slices) if len(slices) else []:
        first = int(np.searchsorted(starts, begin, side="right") - 1)
        last = int(np.searchsorted(starts, max(begin, end - 1), side="right") - 1)
        marked.update(range(first, last + 1))
    return marked
