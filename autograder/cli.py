"""The ``course`` command: a thin layer over the workspace and grading functions."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import content, settings
from .gradebook import notebooks
from . import spec as specs
from .gradebook.workspace import DEFAULT_DIR, Workspace, WorkspaceError


class _OneLineHelp(argparse.HelpFormatter):
    """``course --help``: every subcommand on one line, however long its help."""

    def _split_lines(self, text, width):
        return [" ".join(text.split())]


def version() -> str:
    from importlib import metadata

    try:
        return metadata.version("keras-course")
    except metadata.PackageNotFoundError:  # running from a source tree that is not installed
        return "unknown (not installed)"


# the settings `course grade` takes as flags (calibration's and tuning's have their own)
GRADE_SETTINGS = [n for n in settings.names() if n not in ("calibration_sandboxes", "tune_timeout")]


def _course_dir(parser: argparse.ArgumentParser, default: Path = DEFAULT_DIR) -> None:
    parser.add_argument("--course-dir", type=Path, default=default,
                        help=f"nbgrader course directory (default: {default})")


def _assignment(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("assignment", help=f"assignment id, one of: {', '.join(specs.available())}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="course", description="A Keras course that grades itself: release notebooks, grade "
        "submissions by training them, give feedback, export grades.",
        formatter_class=_OneLineHelp)
    parser.add_argument("--version", action="version", version=f"course {version()}")
    parser.add_argument("--content", type=Path, metavar="DIR", help="course content folder "
                        f"(solutions/, assignments/); default: ${content.ENV}, else the checkout")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("release", help="generate the student notebook (release/<id>/<id>.ipynb)")
    _assignment(p)
    _course_dir(p)

    p = sub.add_parser("grade", help="grade submitted/<student>/<id>/<id>.ipynb by training "
                       "each model in a trusted process; record scores in gradebook.db")
    _assignment(p)
    _course_dir(p)
    p.add_argument("--student", action="append", help="grade only this student (repeatable)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="train on the Dask cluster at this "
                   "scheduler (tcp://HOST:8786; default: $DASK_SCHEDULER_ADDRESS, else local "
                   "trainers); sandboxes stay on this machine")
    p.add_argument("--gpu", action="store_true", help="with --scheduler: train only on "
                   "workers started with --resources GPU=1 (default: on them if there are any)")
    p.add_argument("--force", action="store_true", help="grade again submissions already "
                   "graded with the same notebook, spec, backend and grading seed")
    settings.add_flags(p, GRADE_SETTINGS)

    p = sub.add_parser("feedback", help="write feedback/<student>/<id>/<id>.html pages")
    _assignment(p)
    _course_dir(p)
    p.add_argument("--student", help="only this student")

    p = sub.add_parser("export", help="write all grades as CSV (nbgrader's columns)")
    _course_dir(p)
    p.add_argument("--to", type=Path, help="CSV path (default: <course-dir>/grades.csv)")

    p = sub.add_parser("lectures", help="write the lecture notebooks to a folder and say how "
                       "to open them in Jupyter")
    p.add_argument("--out", type=Path, default=Path("build") / "lectures",
                   help="folder for the .ipynb files (default: build/lectures)")
    p.add_argument("--execute", action="store_true",
                   help="also run each lecture (backend: $KERAS_BACKEND) and write it with its "
                   "outputs, plus an HTML page per lecture, so readers see results without running")

    p = sub.add_parser("tune", help="keras-tuner search over the reference builder's "
                       "search_space on the public split (alone, or as chief/worker)")
    _assignment(p)
    p.add_argument("--tuner", choices=["random", "hyperband", "bayesian"], default="random",
                   help="search strategy (default: random)")
    p.add_argument("--trials", type=int, default=8, help="trials for random/bayesian search "
                   "(default: 8)")
    p.add_argument("--epochs", type=int, help="epochs per trial, Hyperband's largest budget "
                   "(default: the spec's)")
    p.add_argument("--max-seconds", type=float, help="start no new trial after this many seconds")
    p.add_argument("--task", help="which classifier task (default: the spec's first)")
    p.add_argument("--out", type=Path, default=Path("build") / "tune",
                   help="results folder; a search there resumes (default: build/tune)")
    role = p.add_mutually_exclusive_group()
    role.add_argument("--chief", action="store_true", help="hold the oracle for workers "
                      "(distributed mode; or set KERASTUNER_* yourself)")
    role.add_argument("--worker", metavar="ID", help="train trials handed out by the chief")
    p.add_argument("--oracle", default="127.0.0.1:8000", help="the chief's HOST:PORT "
                   "(default: 127.0.0.1:8000)")
    p.add_argument("--timeout", type=float, help="exit after this many seconds whatever "
                   "happens (default as chief or worker: the tune_timeout setting, "
                   f"{settings.DEFAULTS.tune_timeout:g})")

    p = sub.add_parser("calibrate", help="grade the reference, textbook models and common "
                       "mistakes over N seeds per backend; report whether floors and thresholds "
                       "separate them")
    _assignment(p)
    p.add_argument("--seeds", type=int, default=5, help="grading seeds 0..N-1 (default: 5)")
    p.add_argument("--first-seed", type=int, default=0, metavar="K",
                   help="start the seeds at K instead (K..K+N-1): add seeds to an earlier run "
                   "and merge the two with --from")
    p.add_argument("--backend", action="append", choices=["tensorflow", "jax", "torch"],
                   help="backend to calibrate on (repeatable; default: every one installed)")
    p.add_argument("--case", action="append", help="only this case (repeatable): reference, "
                   "a fixture name, or passing/<name>")
    p.add_argument("--workers", type=int, help="trusted trainer processes (default: one per "
                   "CPU core)")
    p.add_argument("--out", type=Path, default=Path("build") / "calibration",
                   help="folder for <assignment>.md and .png (default: build/calibration)")
    p.add_argument("--record", action="store_true", help="write the result into the spec's "
                   "'calibration' entry")
    p.add_argument("--from", dest="records", action="append", type=Path, metavar="JSON",
                   help="train nothing: re-judge the outcomes an earlier run wrote "
                   "(<out>/<assignment>.json) under today's floors and thresholds; repeat to "
                   "merge runs (e.g. one per backend); with --case, only those cases")
    settings.add_flags(p, ["calibration_sandboxes"], in_course=False)

    p = sub.add_parser("demo", help="release -> submissions (reference + common mistakes) -> "
                       "grade -> feedback -> CSV, in a fresh workspace")
    p.add_argument("assignments", nargs="*", metavar="ASSIGNMENT",
                   help="assignments to demonstrate (default: all five, in course order)")
    _course_dir(p, Path("build") / "demo")

    p = sub.add_parser("preview", help="students: score your own notebook as grading would, on "
                       "your public data (no course directory needed)",
                       description="Run a notebook through the sandbox, trusted training and "
                       "checks that grading uses, on the public data it loads, and print each "
                       "check and the score. The final grade is measured on a fresh draw of "
                       "held-out data (for digits, a private pool that no notebook loads).")
    p.add_argument("notebook", type=Path, help="your notebook (.ipynb)")
    p.add_argument("--assignment", help="assignment id (default: the notebook's file name)")

    p = sub.add_parser("similarity", help="which submissions share code, architecture or wrong "
                       "answers: an HTML page and similarity.csv, as evidence for a person "
                       "(flags are relative to the batch; no grade changes)")
    _assignment(p)
    _course_dir(p)
    p.add_argument("--out", type=Path, metavar="DIR", help="folder for similarity.html and "
                   "similarity.csv (default: <course-dir>/similarity/<id>)")
    for p in sub.choices.values():  # `course COMMAND ... --content DIR` works too
        p.add_argument("--content", type=Path, metavar="DIR", default=argparse.SUPPRESS,
                       help=f"course content folder (default: ${content.ENV}, else the checkout)")
    return parser


def _quiet_backends() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _quiet_backends()
    try:
        if args.content:
            content.use(args.content)
        return _dispatch(args)
    except (WorkspaceError, specs.SpecError, notebooks.SourceError, settings.SettingsError,
            FileNotFoundError) as err:
        print(f"course {args.command}: {err}", file=sys.stderr)
        return 2


def _dispatch(args) -> int:
    if args.command == "preview":
        from . import preview

        print(preview.run(args.notebook, args.assignment).report(args.notebook))
        return 0
    if args.command == "demo":
        from . import demo

        unknown = sorted(set(args.assignments) - set(demo.ORDER))
        if unknown:
            raise specs.SpecError(f"no demo for {', '.join(unknown)}; expected some of "
                                  f"{', '.join(demo.ORDER)}")
        demo.run(args.course_dir, args.assignments or None)
        return 0
    if args.command == "calibrate":
        return _calibrate(args)
    if args.command == "tune":
        return _tune(args)
    if args.command == "lectures":
        from course import lectures

        if args.execute:
            from course.lectures import execute

            for path in execute.write_executed(args.out):
                print(path)
            return 0
        for path in lectures.write_notebooks(args.out):
            print(path)
        print(f"open them with: jupyter lab {args.out}  (or: jupyter notebook {args.out})")
        return 0
    ws = Workspace(args.course_dir)
    if args.command == "release":
        specs.load(args.assignment)
        print(f"released {args.assignment}: {ws.release(args.assignment)}")
    elif args.command == "grade":
        from . import grading, preview

        if preview.unavailable(specs.load(args.assignment)):  # scored against the reference
            content.root()  # no content: stop here, saying how to name it
        from .trusted.dask_pool import DaskPool, DaskPoolError, scheduler_address
        from .trusted.pool import WorkerPool
        from .sandbox import runner

        chosen = settings.from_args(ws.root, args)
        runner.use_settings(chosen)
        if chosen.require_isolation:
            grading.check_isolation(True)  # refuse before any trainer starts

        try:
            address = scheduler_address(args.scheduler)
            with (DaskPool(address, gpu=args.gpu or None, settings=chosen)
                  if address else WorkerPool(settings=chosen)) as pool:
                report = grading.grade(ws, args.assignment, students=args.student, pool=pool,
                                       force=args.force, settings=chosen)
                sizing = pool.sizing
        except DaskPoolError as err:
            print(f"course grade: {err}", file=sys.stderr)
            return 2
        print(report.table())
        print(report.timing_line())
        for line in sizing:
            print(f"trainers: {line}")
        if report.unrecorded:
            print(f"{len(report.unrecorded)} notebook(s) could not be read by nbgrader; zero "
                  "recorded for them (see the table)", file=sys.stderr)
            return 1
    elif args.command == "feedback":
        ws.require_release(args.assignment)
        for path in ws.feedback(args.assignment, args.student):
            print(path)
    elif args.command == "similarity":
        from . import similarity

        specs.load(args.assignment)
        page, table, comparison = similarity.run(ws.root, args.assignment, args.out)
        flagged = sum(p.flagged for p in comparison.pairs())
        n = len(comparison.students)
        print(f"{n} submissions, {n * (n - 1) // 2} pairs, {flagged} flagged (unusual for this "
              "batch: evidence to look at, not a verdict)")
        for note in comparison.batch.notes:
            print(f"note: {note}")
        print(f"report: {page}")
        print(f"table: {table}")
    elif args.command == "export":
        if not (ws.root / "gradebook.db").exists():
            raise WorkspaceError(f"no gradebook in {ws.root}: run `course grade` first")
        print(f"grades written to {ws.export_csv(args.to)}")
    return 0


def installed_backends() -> list[str]:
    import importlib.util

    return [b for b, module in (("tensorflow", "tensorflow"), ("jax", "jax"), ("torch", "torch"))
            if importlib.util.find_spec(module) is not None]


def _tune(args) -> int:
    from . import tune

    role = "chief" if args.chief else "worker" if args.worker is not None else None
    timeout = args.timeout or (settings.DEFAULTS.tune_timeout if role else None)
    try:
        result = tune.run(args.assignment, tuner=args.tuner, trials=args.trials,
                          epochs=args.epochs, max_seconds=args.max_seconds, out=args.out,
                          task=args.task, role=role, oracle=args.oracle, worker=args.worker,
                          timeout=timeout)
    except tune.TuneError as err:
        print(f"course tune: {err}", file=sys.stderr)
        return 2
    if result["table"] is not None:
        print(result["table"])
        print(f"best: {result['best']}")
        print(f"results: {result['dir']} (trials.md, best_hyperparameters.json); "
              f"{result['seconds']:.0f} s")
    else:
        print(f"worker done after {result['seconds']:.0f} s; the chief holds the results")
    return 0


def _calibrate(args) -> int:
    from . import calibrate, calibration_report

    if args.seeds < 1 or args.first_seed < 0:
        raise specs.SpecError(f"--seeds should be at least 1 and --first-seed at least 0, got "
                              f"{args.seeds} and {args.first_seed}")
    if args.records:
        run = calibrate.from_records(args.assignment, args.records, only=args.case)
        command = f"course calibrate {args.assignment} " + " ".join(
            [f"--from {path}" for path in args.records]
            + [f"--case {name}" for name in args.case or []])
    else:
        backends = args.backend or installed_backends()
        run = calibrate.run(args.assignment, args.seeds, backends, workers=args.workers,
                            settings=settings.from_args(None, args),
                            only=args.case, first_seed=args.first_seed)
        command = (f"course calibrate {args.assignment} --seeds {args.seeds} "
                   + (f"--first-seed {args.first_seed} " if args.first_seed else "")
                   + " ".join(f"--backend {b}" for b in backends))
    verdicts = calibrate.judge(run["spec"], run["cases"], run["outcomes"])
    code = calibrate.exit_code(verdicts, run["outcomes"], run["cases"])
    report = calibration_report.write(run, verdicts, code, args.out, command)
    for v in verdicts:
        state = "holds" if v.holds else "NO SEPARATION" if not v.separable else "does not hold"
        proposal = (f" -> proposed floor {v.proposal['floor']:g}, threshold "
                    f"{v.proposal['threshold']:g}" if v.proposal else "")
        print(f"{v.grade_id}: {state}{proposal}")
    print(f"report: {report}")
    if args.record:
        info = calibrate.summary(run, verdicts, code, report)
        print(f"recorded in {calibrate.record(args.assignment, info)}")
    return code


if __name__ == "__main__":
    sys.exit(main())
