"""The calibration report: a Markdown page and a PNG of each metric's spread per case."""
from __future__ import annotations

import datetime as dt
import json
import statistics
from pathlib import Path

from .calibrate import CheckVerdict, Outcome, seeds_by_backend

BACKEND_MARKERS = {"tensorflow": "o", "jax": "s", "torch": "^"}


def _range(values: list[float]) -> str:
    if not values:
        return "–"
    lo, hi = min(values), max(values)
    med = statistics.median(values)
    return f"{lo:.3f}" if lo == hi else f"{lo:.3f} / {med:.3f} / {hi:.3f}"


def _seeds(outcomes: list[Outcome]) -> str:
    """Which seeds each backend was graded on, e.g. ``0..4 on jax, tensorflow; 0..1 on torch``."""
    by_range: dict[str, list[str]] = {}
    for backend, seeds in seeds_by_backend(outcomes).items():
        contiguous = seeds == list(range(seeds[0], seeds[-1] + 1))
        span = f"{seeds[0]}..{seeds[-1]}" if contiguous and len(seeds) > 1 else \
            ", ".join(map(str, seeds))
        by_range.setdefault(span, []).append(backend)
    return "; ".join(f"{span} on {', '.join(b)}" for span, b in by_range.items())


def markdown(run: dict, verdicts: list[CheckVerdict], code: int, command: str,
             png_name: str) -> str:
    spec, outcomes, backends = run["spec"], run["outcomes"], run["backends"]
    lines = [f"# Calibration: `{spec.assignment}`", "",
             f"Command: `{command}`  ", f"Date: {dt.date.today().isoformat()}; "
             f"grading seeds {_seeds(outcomes)}; {run['seconds']:.0f} s on this machine.", "",
             "Each case's notebook runs once in the sandbox; the trusted trainer then grades it "
             "on every seed and backend. Must-pass cases need full marks every time; every "
             "mistake must lose points every time.", "",
             "## Cases", "",
             "| case | must | what it is | " + " | ".join(
                 f"{b}: full marks (score range)" for b in backends) + " |",
             "|---|---|---|" + "---|" * len(backends)]
    for case in run["cases"]:
        cells = []
        for b in backends:
            mine = [o for o in outcomes if o.case == case.name and o.backend == b]
            full = sum(o.full for o in mine)
            ok = full == len(mine) if case.must_pass else full == 0
            scores = [o.score for o in mine]
            span = f"{min(scores):g}" if min(scores) == max(scores) else \
                f"{min(scores):g}–{max(scores):g}"
            cells.append(f"{full}/{len(mine)} ({span}){'' if ok else ' **WRONG**'}")
        must = "pass" if case.must_pass else "fail"
        lines.append(f"| `{case.name}` | {must} | {case.summary} | " + " | ".join(cells) + " |")
    lines += ["", "## Metric checks", "",
              "Values are min / median / max over seeds. The margin is "
              "10% of |threshold - floor| or 2% of the threshold, whichever is larger (none for a metric with no spread, such as 8 of 8 "
              "attention cases). A mistake counts for a check on the seeds where it loses "
              "points on it, or where every other check gave it full marks.", ""]
    for v in verdicts:
        direction = "lower is better" if v.lower_is_better else "higher is better"
        verdict = "holds" if v.holds else ("no threshold separates" if not v.separable
                                           else "does not hold")
        lines += [f"### `{v.grade_id}` ({v.metric}, {direction})", "",
                  f"Spec: floor {v.floor:g}, threshold {v.threshold:g}. "
                  f"Must-pass: {_range(v.passing)}; mistakes: {_range(v.wrong)}. "
                  f"**{verdict}**" + (f"; proposed: floor {v.proposal['floor']:g}, threshold "
                                       f"{v.proposal['threshold']:g}" if v.proposal else "") + ".",
                  ""]
        lines += [f"- {note}" for note in v.notes]
        lines += ["", "| case | " + " | ".join(backends) + " |",
                  "|---|" + "---|" * len(backends)]
        for case in run["cases"]:
            row = [_range([o.values[v.grade_id] for o in outcomes if o.case == case.name
                           and o.backend == b and v.grade_id in o.values]) for b in backends]
            if any(r != "–" for r in row):
                lines.append(f"| `{case.name}` | " + " | ".join(row) + " |")
        lines.append("")
    lines += [f"![metric spreads per case]({png_name})", "",
              f"Exit code {code}: " + {0: "the spec holds.", 1: "the spec should change "
                                       "(see the proposals or the WRONG cells).",
                                       3: "no threshold separates the cases."}[code], ""]
    return "\n".join(lines)


def figure(run: dict, verdicts: list[CheckVerdict]) -> bytes:
    """One panel per metric check: each case's values (a dot per seed and backend) against the
    floor and the threshold."""
    from course import plots

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    outcomes: list[Outcome] = run["outcomes"]
    names = [c.name for c in run["cases"]]
    must = {c.name: c.must_pass for c in run["cases"]}
    fig, axes = plt.subplots(1, max(1, len(verdicts)), squeeze=False,
                             figsize=(4.2 * max(1, len(verdicts)), 0.35 * len(names) + 1.6))
    for ax, v in zip(axes[0], verdicts):
        for row, name in enumerate(names):
            for backend in run["backends"]:
                xs = [o.values[v.grade_id] for o in outcomes if o.case == name
                      and o.backend == backend and v.grade_id in o.values]
                ax.scatter(xs, [row] * len(xs), s=18, alpha=0.6,
                           marker=BACKEND_MARKERS.get(backend, "o"),
                           color="tab:green" if must[name] else "tab:red",
                           label=backend if row == 0 else None)
        ax.axvline(v.threshold, color="black", lw=1.2, label="threshold")
        ax.axvline(v.floor, color="gray", lw=1, ls="--", label="floor")
        ax.set_yticks(range(len(names)), names if ax is axes[0][0] else [""] * len(names))
        ax.set_title(f"{v.grade_id}\n({v.metric})", fontsize=9)
        ax.invert_yaxis()
    axes[0][-1].legend(fontsize=7, loc="best")
    fig.suptitle(f"{run['spec'].assignment}: seeds {_seeds(run['outcomes'])} (green must pass, "
                 "red must fail)", fontsize=10)
    fig.tight_layout()
    return plots.to_png(fig)


def write(run: dict, verdicts: list[CheckVerdict], code: int, out_dir: Path,
          command: str) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    name = run["spec"].assignment
    (out_dir / f"{name}.png").write_bytes(figure(run, verdicts))
    from .calibrate import outcomes_json

    (out_dir / f"{name}.json").write_text(json.dumps(outcomes_json(run), indent=1))
    md = out_dir / f"{name}.md"
    md.write_text(markdown(run, verdicts, code, command, f"{name}.png"))
    return md
