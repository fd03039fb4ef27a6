"""The ``course`` command: a thin layer over the workspace and grading functions."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import spec as specs
from .workspace import DEFAULT_DIR, Workspace, WorkspaceError


def _course_dir(parser: argparse.ArgumentParser, default: Path = DEFAULT_DIR) -> None:
    parser.add_argument("--course-dir", type=Path, default=default,
                        help=f"nbgrader course directory (default: {default})")


def _assignment(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("assignment", help=f"assignment id, one of: {', '.join(specs.available())}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="course", description="A Keras course that grades itself: release notebooks, grade "
        "submissions by training them, give feedback, export grades.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("release", help="generate the student notebook (release/<id>/<id>.ipynb)")
    _assignment(p)
    _course_dir(p)

    p = sub.add_parser("grade", help="grade submitted/<student>/<id>/<id>.ipynb by training "
                       "each model in a trusted process; record scores in gradebook.db")
    _assignment(p)
    _course_dir(p)
    p.add_argument("--student", action="append", help="grade only this student (repeatable)")
    p.add_argument("--workers", type=int, help="trusted trainer processes (default: one per "
                   "GPU, else one per CPU core)")
    p.add_argument("--force", action="store_true", help="grade again submissions already "
                   "graded with the same notebook, spec, backend and grading seed")

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

    p = sub.add_parser("demo", help="release -> submissions (reference + common mistakes) -> "
                       "grade -> feedback -> CSV, in a fresh workspace")
    p.add_argument("assignments", nargs="*", metavar="ASSIGNMENT",
                   help="assignments to demonstrate (default: all five, in course order)")
    _course_dir(p, Path("build") / "demo")
    return parser


def _quiet_backends() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _quiet_backends()
    try:
        return _dispatch(args)
    except (WorkspaceError, specs.SpecError, FileNotFoundError) as err:
        print(f"course {args.command}: {err}", file=sys.stderr)
        return 2


def _dispatch(args) -> int:
    if args.command == "demo":
        from . import demo

        unknown = sorted(set(args.assignments) - set(demo.ORDER))
        if unknown:
            raise specs.SpecError(f"no demo for {', '.join(unknown)}; expected some of "
                                  f"{', '.join(demo.ORDER)}")
        demo.run(args.course_dir, args.assignments or None)
        return 0
    if args.command == "lectures":
        from course import lectures

        for path in lectures.write_notebooks(args.out):
            print(path)
        print(f"open them with: jupyter lab {args.out}  (or: jupyter notebook {args.out})")
        return 0
    ws = Workspace(args.course_dir)
    if args.command == "release":
        specs.load(args.assignment)
        print(f"released {args.assignment}: {ws.release(args.assignment)}")
    elif args.command == "grade":
        from . import grading
        from .pool import WorkerPool

        with WorkerPool(size=args.workers) as pool:
            report = grading.grade(ws, args.assignment, students=args.student, pool=pool,
                                   force=args.force)
        print(report.table())
        print(report.timing_line())
        if report.unrecorded:
            print(f"{len(report.unrecorded)} notebook(s) could not be read by nbgrader; zero "
                  "recorded for them (see the table)", file=sys.stderr)
            return 1
    elif args.command == "feedback":
        ws.require_release(args.assignment)
        for path in ws.feedback(args.assignment, args.student):
            print(path)
    elif args.command == "export":
        if not (ws.root / "gradebook.db").exists():
            raise WorkspaceError(f"no gradebook in {ws.root}: run `course grade` first")
        print(f"grades written to {ws.export_csv(args.to)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
