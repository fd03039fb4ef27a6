"""The report a person reads: ``similarity.html`` and ``similarity.csv``.

The CSV has exactly the columns ``student_a, student_b, code, architecture, values, flagged``
(one row per pair, scores in [0, 1], ranked by combined score): other tools read it. The page
ranks the pairs, shows the listed ones with their code side by side (matching lines marked) and
their architectures side by side, says why each is listed, groups the architectures, and says
what the flag means: unusual for this batch, which accuses no one and changes no grade.
"""
from __future__ import annotations

import csv
import html
from pathlib import Path

from . import architecture as arch
from . import scoring
from .code import COMMON_AT_LEAST, COMMON_SHARE
from .compare import Comparison, reasons

COLUMNS = ["student_a", "student_b", "code", "architecture", "values", "flagged"]
DETAILED = 10  # pairs shown in full when fewer are flagged
MAX_DETAILED = 50  # and never more than this
RANKED = 100  # rows of the ranking table on the page
ROW_CLASS = {"same": "", "changed": "changed", "only-left": "only", "only-right": "only"}


def write_csv(c: Comparison, path: Path, pairs=None) -> Path:
    pairs = pairs if pairs is not None else c.pairs()
    with open(path, "w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(COLUMNS)
        for p in pairs:
            out.writerow([p.a, p.b, f"{p.code:.3f}", f"{p.architecture:.3f}",
                          f"{p.values:.3f}", "true" if p.flagged else "false"])
    return path


def write(c: Comparison, out_dir: Path) -> tuple[Path, Path]:
    """Write both files into ``out_dir``; returns (html path, csv path)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    pairs = c.pairs()
    csv_path = write_csv(c, out_dir / "similarity.csv", pairs)
    page = out_dir / "similarity.html"
    page.write_text(render(c, pairs))
    return page, csv_path


STYLE = """
body{font-family:system-ui,sans-serif;margin:2em;max-width:1400px;color:#222}
table{border-collapse:collapse}td,th{padding:2px 8px;text-align:left;vertical-align:top}
.rank td,.rank th{border-bottom:1px solid #ddd}.flag{color:#a00;font-weight:bold}
.side{width:100%;table-layout:fixed}.side td{width:50%}
pre{margin:0;font-size:12px;white-space:pre-wrap}.code{border:1px solid #ccc;padding:4px}
.m{background:#ffe08a}.changed{background:#ffe0e0}.only{background:#e0f0ff}
.note{background:#f4f4f4;padding:8px 12px;border-left:4px solid #888}
"""


def _e(text) -> str:
    return html.escape(str(text))


def render(c: Comparison, pairs) -> str:
    flagged = [p for p in pairs if p.flagged]
    shown = pairs[:min(MAX_DETAILED, max(len(flagged), DETAILED))]
    s = c.stats
    parts = [f"<!doctype html><meta charset='utf-8'><title>Similarity: {_e(c.batch.assignment)}"
             f"</title><style>{STYLE}</style>",
             f"<h1>Similarity of submissions: {_e(c.batch.assignment)}</h1>",
             "<p class='note'><b>What this is.</b> Evidence for a person to weigh, not a verdict: "
             "it accuses no one and changes no grade. <b>Flagged</b> is relative to this batch: "
             f"a pair is flagged when its combined score is at least {scoring.Z} robust standard "
             f"deviations above the median of all {len(pairs):,} pairs (median {s.median:.3f}, "
             f"spread {s.spread:.3f}, so the cutoff is {s.cutoff:.3f}; never below "
             f"{scoring.FLOOR}). A small task makes independent solutions alike, so a high score "
             "in a batch where every pair scores high is not flagged.</p>",
             _method(c), _notes(c),
             f"<h2>Ranking ({len(flagged)} flagged of {len(pairs):,} pairs)</h2>",
             _ranking(pairs[:RANKED]),
             f"<h2>Listed pairs ({len(shown)})</h2>"]
    parts += [_pair_section(c, p, n) for n, p in enumerate(shown, 1)]
    parts.append(_groups(c))
    return "\n".join(parts)


def _method(c: Comparison) -> str:
    w = scoring.WEIGHTS
    return ("<details><summary>How the scores are made</summary><ul>"
            "<li><b>code</b>: winnowing fingerprints (MOSS's method, via copydetect) of the "
            "solution cells and added cells; names, comments and layout do not count; the "
            "released notebook's code and fingerprints that more than "
            f"{max(COMMON_AT_LEAST, int(COMMON_SHARE * len(c.students)))} submissions share are "
            "left out "
            f"({c.common_dropped} dropped as common to the task); score = mean of the two "
            "sides' shares of fingerprints found in the other.</li>"
            "<li><b>architecture</b>: each exported model as a canonical graph of layers with "
            "their settings (names, initializer seeds and the order of independent branches do "
            "not matter; Sequential and functional forms read the same); 1 = identical. As "
            "evidence an identical architecture counts 2/k when k submissions share it.</li>"
            "<li><b>values</b>: the same wrong answer on a grading challenge (inputs drawn at "
            "grading time), weighted 2/k when k submissions gave it.</li>"
            f"<li><b>combined</b> = {w['code']} code + {w['architecture']} architecture evidence"
            f" + {w['values']} values, over the channels a pair has.</li></ul></details>")


def _notes(c: Comparison) -> str:
    notes = list(c.batch.notes)
    for fn, errors in c.architectures.errors.items():
        if errors:
            notes.append(f"{len(errors)} export(s) of {fn} could not be read as a model graph "
                         f"({', '.join(sorted(errors)[:5])})")
    if not notes:
        return ""
    return "<h2>What is missing</h2><ul>" + "".join(f"<li>{_e(n)}</li>" for n in notes) + "</ul>"


def _ranking(pairs) -> str:
    rows = "".join(
        f"<tr><td>{n}</td><td>{_e(p.a)}</td><td>{_e(p.b)}</td><td>{p.combined:.3f}</td>"
        f"<td>{p.code:.3f}</td><td>{p.architecture:.3f}</td><td>{p.values:.3f}</td>"
        f"<td class='{'flag' if p.flagged else ''}'>{'flagged' if p.flagged else ''}</td></tr>"
        for n, p in enumerate(pairs, 1))
    return ("<table class='rank'><tr><th>#</th><th>student a</th><th>student b</th>"
            "<th>combined</th><th>code</th><th>architecture</th><th>values</th><th></th></tr>"
            f"{rows}</table>")


def _code_block(text: str, marked: set[int]) -> str:
    lines = text.split("\n")
    body = "\n".join(f"<span class='m'>{_e(line) or ' '}</span>" if i in marked else _e(line)
                     for i, line in enumerate(lines))
    return f"<pre class='code'>{body}</pre>"


def _pair_section(c: Comparison, p, n: int) -> str:
    flag = " <span class='flag'>flagged</span>" if p.flagged else ""
    why = "".join(f"<li>{_e(r)}</li>" for r in reasons(c, p.a, p.b)) or "<li>low scores</li>"
    left, right = c.fingerprints.matching_lines(p.a, p.b)
    code_a = c.fingerprints.prints[p.a].raw_code
    code_b = c.fingerprints.prints[p.b].raw_code
    out = [f"<h3 id='pair{n}'>{n}. {_e(p.a)} and {_e(p.b)}{flag}</h3>",
           f"<p>combined {p.combined:.3f} (z {c.stats.z(p.combined):+.1f}); code "
           f"{p.code:.3f}, architecture {p.architecture:.3f}, values {p.values:.3f}</p>",
           f"<ul>{why}</ul>",
           "<p>Code as compared (written back by Python's <code>ast</code>: one statement a "
           "line, comments and line breaks of the original left out); lines with matching "
           "fingerprints are marked.</p>",
           "<table class='side'><tr><th>" + _e(p.a) + "</th><th>" + _e(p.b) + "</th></tr>"
           f"<tr><td>{_code_block(code_a, left)}</td><td>{_code_block(code_b, right)}</td></tr>"
           "</table>",
           "<details><summary>the code as submitted</summary><table class='side'><tr>"
           f"<td>{_code_block(c.fingerprints.original[p.a], set())}</td>"
           f"<td>{_code_block(c.fingerprints.original[p.b], set())}</td></tr></table></details>"]
    for fn in c.batch.model_functions:
        ga = c.architectures.graphs.get(fn, {}).get(p.a)
        gb = c.architectures.graphs.get(fn, {}).get(p.b)
        if ga is None or gb is None:
            continue
        rows = "".join(f"<tr class='{ROW_CLASS[state]}'><td><pre>{_e(left_line)}</pre></td>"
                       f"<td><pre>{_e(right_line)}</pre></td></tr>"
                       for left_line, right_line, state in arch.side_by_side(ga, gb))
        same = "identical" if ga.digest == gb.digest else "differences marked"
        out.append(f"<p><b>{_e(fn)}</b> architecture ({same})</p><table class='side'>{rows}"
                   "</table>")
    return "\n".join(out)


def _groups(c: Comparison) -> str:
    out = ["<h2>Architecture groups</h2><p>Identical architectures, and near-identical ones "
           f"(at least {arch.NEAR:.0%} alike) with what differs from the most common.</p>"]
    for fn in c.batch.model_functions:
        if fn not in c.architectures.graphs:
            continue
        out.append(f"<h3>{_e(fn)}</h3><ol>")
        for g in c.architectures.groups(fn):
            items = []
            for k, (digest, members) in enumerate(g.members.items()):
                diff = "" if k == 0 else "<br>differs: " + "; ".join(
                    _e(d) for d in g.differences.get(digest, [])[:6])
                items.append(f"{len(members)}: {_e(', '.join(members[:20]))}"
                             f"{' ...' if len(members) > 20 else ''}{diff}")
            first = next(iter(g.lines.values()))
            out.append(f"<li>{g.size} submission(s), {len(g.members)} variant(s)<ul>"
                       + "".join(f"<li>{i}</li>" for i in items)
                       + f"</ul><details><summary>layers</summary><pre>"
                       + _e("\n".join(first)) + "</pre></details></li>")
        out.append("</ol>")
    return "\n".join(out)
