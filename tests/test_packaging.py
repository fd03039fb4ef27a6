"""Packaging for two audiences: the wheel students install holds no answer and works on its own;
instructors release and grade from a non-editable install plus the course content.

The wheel is built from a copy of this checkout (``pip wheel --no-deps --no-build-isolation``,
offline) and installed into a fresh environment that cannot see the checkout: a venv without
pip whose site-packages holds the wheel (``pip install --target``) and a ``.pth`` line naming
this venv's site-packages (for Keras, nbgrader ...). Path lines in a ``.pth`` are added to
``sys.path``, but ``.pth`` files inside that directory (this venv's editable install of the
checkout) are not processed, and every command runs with its working directory outside the
checkout.
"""
from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
VENV_SITE = sysconfig.get_paths()["purelib"]  # where Keras, nbgrader ... are installed
COPY_IGNORE = shutil.ignore_patterns(".venv", ".git", "build", "dist", "*.egg-info", "__pycache__",
                                     ".pytest_cache", ".whl", ".device", ".ipynb_checkpoints")
SHIPPED = ("course", "autograder")  # the wheel's top-level packages


def _source_copy(dest: Path) -> Path:
    shutil.copytree(ROOT, dest, ignore=COPY_IGNORE)
    return dest


def _pip(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    return subprocess.run([sys.executable, "-m", "pip", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


def _bare_venv(path: Path) -> Path:
    """A venv without pip whose site-packages sees this venv's packages (not its editable
    install of the checkout); returns its site-packages."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True,
                   timeout=120)
    site = subprocess.run([str(path / "bin" / "python"), "-c",
                           "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    Path(site, "course_deps.pth").write_text(VENV_SITE + "\n")
    return Path(site)


@dataclass
class Wheel:
    path: Path
    log: str


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Wheel:
    src = _source_copy(tmp_path_factory.mktemp("wheel-src") / "keras-course")
    out = tmp_path_factory.mktemp("wheel")
    done = _pip("wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(out), ".",
                cwd=src)
    assert done.returncode == 0, done.stdout + done.stderr
    (path,) = out.glob("keras_course-*.whl")
    return Wheel(path, done.stdout + done.stderr)


@dataclass
class Student:
    """A non-editable install of the wheel, outside the checkout."""

    python: Path
    site: Path
    work: Path  # the working directory of every command (outside the checkout)

    def env(self, **extra) -> dict:
        env = {k: v for k, v in os.environ.items()
               if k not in ("PYTHONPATH", "COURSE_CONTENT", "VIRTUAL_ENV", "PYTHONHOME")}
        # nbgrader runs the `alembic` command: it lives beside this venv's Python
        env["PATH"] = env.get("PATH", "") + os.pathsep + os.path.dirname(sys.executable)
        env.update(TF_CPP_MIN_LOG_LEVEL="3", MPLBACKEND="Agg", PYTHONDONTWRITEBYTECODE="1",
                   **extra)
        return env

    def run(self, *args: str, timeout: float = 600, **extra_env) -> subprocess.CompletedProcess:
        return subprocess.run([str(self.python), *args], cwd=self.work, env=self.env(**extra_env),
                              capture_output=True, text=True, timeout=timeout)

    def course(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        return self.run("-m", "autograder.cli", *args, timeout=timeout)


@pytest.fixture(scope="module")
def student(tmp_path_factory, wheel) -> Student:
    home = tmp_path_factory.mktemp("student")
    site = _bare_venv(home / "venv")
    done = _pip("install", "--no-deps", "--no-index", "--target", str(site), str(wheel.path),
                cwd=home)
    assert done.returncode == 0, done.stdout + done.stderr
    work = home / "work"
    work.mkdir()
    return Student(home / "venv" / "bin" / "python", site, work)


WINDOW = 3  # consecutive statements of a reference body that must not appear anywhere


def _statements(node) -> list:
    body = list(node.body)
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring
    return body


def _windows(statements: list, size: int) -> set[tuple]:
    dumps = [ast.dump(s) for s in statements]
    return {tuple(dumps[i:i + size]) for i in range(len(dumps) - size + 1)}


def _reference_windows() -> dict[tuple, str]:
    """{runs of WINDOW statements (a whole body if shorter), as AST dumps: where from}."""
    out = {}
    for path in sorted((ROOT / "solutions").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef):
                body = _statements(node)
                for window in _windows(body, min(WINDOW, len(body))):
                    out[window] = f"solutions/{path.name}:{node.name}"
    return out


def _code_windows(tree, sizes) -> set[tuple]:
    """Runs of statements in every block of ``tree`` (module, function, loop, branch ...)."""
    out = set()
    for node in ast.walk(tree):
        for field in ("body", "orelse", "finalbody"):
            block = getattr(node, field, None)
            if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
                for size in sizes:
                    out |= _windows(block, size)
                    out |= _windows(_statements(node) if field == "body" else block, size)
    return out


# -- the wheel ------------------------------------------------------------------------------

def test_wheel_holds_the_library_and_the_grader(wheel):
    names = zipfile.ZipFile(wheel.path).namelist()
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert tops == set(SHIPPED)
    packages = {str(p.parent.relative_to(ROOT)) for top in SHIPPED
                for p in (ROOT / top).rglob("__init__.py") if "__pycache__" not in p.parts}
    for package in packages:  # every package of the checkout ships (none forgotten)
        assert f"{package}/__init__.py" in names, package
    for spec in (ROOT / "autograder" / "specs").glob("*.json"):
        assert f"autograder/specs/{spec.name}" in names
    for lecture in (ROOT / "course" / "lectures").glob("[0-9]*.py"):
        assert f"course/lectures/{lecture.name}" in names
    top_level = next(n for n in names if n.endswith(".dist-info/top_level.txt"))
    assert set(zipfile.ZipFile(wheel.path).read(top_level).decode().split()) == set(SHIPPED)


def test_wheel_holds_no_answers(wheel):
    archive = zipfile.ZipFile(wheel.path)
    names = archive.namelist()
    assert not [n for n in names if n.startswith(("solutions/", "assignments/", "tests/",
                                                  "bench/"))]
    assert not [n for n in names if re.match(r"autograder/fixtures/[^/]+/", n)]  # mistakes
    assert not [n for n in names if Path(n).name == "grading_seed"]
    assert not [n for n in names if n.endswith((".ipynb", ".db"))]
    references = _reference_windows()
    assert any(where.endswith("cnn.py:build_cnn") for where in references.values())
    sizes = {len(w) for w in references}
    found = []
    for name in names:
        if name.endswith(".py"):
            code = _code_windows(ast.parse(archive.read(name).decode()), sizes)
            found += sorted({(name, references[w]) for w in code & set(references)})
    assert not found, f"reference solution code in the student wheel: {found}"


def test_build_prints_no_packaging_warnings(wheel):
    assert "warning" not in wheel.log.lower(), wheel.log


def test_editable_install_is_quiet_and_serves_the_checkout(tmp_path):
    """Instructors: `pip install -e .` prints nothing with --quiet (the Makefile's) and makes
    the checkout importable, `solutions` included."""
    src = _source_copy(tmp_path / "checkout")
    site = _bare_venv(tmp_path / "venv")
    python = tmp_path / "venv" / "bin" / "python"
    done = _pip("--python", str(python), "install", "--quiet", "--no-deps",
                "--no-build-isolation", "--no-index", "-e", ".", cwd=src)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == "" and done.stderr.strip() == "", done.stdout + done.stderr
    assert site.is_dir()
    found = subprocess.run([str(python), "-c", "import autograder, course, solutions; "
                            "print(autograder.__file__, course.__file__, solutions.__file__)"],
                           cwd=tmp_path, capture_output=True, text=True, timeout=120,
                           env={**os.environ, "PYTHONPATH": ""})
    assert found.returncode == 0, found.stderr
    assert all(p.startswith(str(src)) for p in found.stdout.split())


# -- the student's install ------------------------------------------------------------------

def test_student_install_does_not_see_the_checkout(student):
    done = student.run("-c", "import importlib.util, autograder, course; "
                       "print(autograder.__file__); print(course.__file__); "
                       "print(importlib.util.find_spec('solutions'))")
    assert done.returncode == 0, done.stderr
    autograder_file, course_file, solutions = done.stdout.split("\n")[:3]
    assert Path(autograder_file).is_relative_to(student.site)
    assert Path(course_file).is_relative_to(student.site)
    assert solutions == "None"
    assert not list(student.site.glob("solutions*")) and not (student.site / "assignments").exists()


def test_student_install_cli(student):
    version = student.course("--version")
    assert version.returncode == 0 and re.fullmatch(r"course \d+\.\d+\.\d+\s*", version.stdout)
    helped = student.course("--help")
    assert helped.returncode == 0
    from autograder import cli

    commands = list(cli.build_parser()._subparsers._group_actions[0].choices)
    assert "preview" in commands
    lines = helped.stdout.splitlines()
    start = lines.index("  COMMAND") + 1
    listed = lines[start:lines.index("", start)]
    assert [line.split()[0] for line in listed] == commands, helped.stdout  # one line each


def test_student_install_says_instructor_steps_need_the_content(student, tmp_path):
    for args in (["release", "cnn"], ["demo", "cnn"], ["grade", "transformer"]):
        done = student.course(*args, "--course-dir", str(tmp_path / "course"))
        assert done.returncode == 2, done.stdout + done.stderr
        assert "Traceback" not in done.stderr
        assert "course content" in done.stderr and "--content" in done.stderr
    bad = student.course("--content", str(tmp_path), "release", "cnn")
    assert bad.returncode == 2 and "not a course content folder" in bad.stderr


def test_student_install_runs_every_lecture_conversion(student, tmp_path):
    done = student.course("lectures", "--out", str(tmp_path / "lectures"))
    assert done.returncode == 0, done.stderr
    from course import lectures

    for stem, _, _ in lectures.LECTURES:
        nb = json.loads((tmp_path / "lectures" / f"{stem}.ipynb").read_text())
        assert len(nb["cells"]) > 3
    imported = student.run("-c", "import course.lectures as l, sys; "
                           "print(l.__file__); [l.to_notebook(s) for s, _, _ in l.LECTURES]")
    assert imported.returncode == 0, imported.stderr
    assert Path(imported.stdout.strip()).is_relative_to(student.site)


def test_the_sandbox_hides_the_content_from_an_install(student, tmp_path):
    """The issue: the hidden paths were computed beside the package, so an install lost
    assignments/, tests/ and bench/. Now they come from the content folder: all of it when the
    install does not run from it, else its instructor-only parts."""
    copy = tmp_path / "content"
    (copy / "assignments").mkdir(parents=True)
    shutil.copytree(ROOT / "solutions", copy / "solutions", ignore=COPY_IGNORE)
    script = ("import json, sys; from autograder import content; "
              "from autograder.sandbox import runner; content.use(sys.argv[1]); "
              "print(json.dumps(runner.hidden_paths(None)))")
    hidden = json.loads(student.run("-c", script, str(ROOT)).stdout)
    for part in ("solutions", "assignments", "tests", "bench", "autograder/fixtures"):
        assert str(ROOT / part) in hidden, part
    assert str(student.site / "autograder" / "specs") in hidden
    assert str(ROOT) not in hidden  # this test's Keras lives in the checkout's .venv
    hidden = json.loads(student.run("-c", script, str(copy)).stdout)
    assert str(copy.resolve()) in hidden


@pytest.fixture(scope="module")
def released(student, tmp_path_factory) -> Path:
    """Every assignment released by the non-editable install, from the checkout as content."""
    course_dir = tmp_path_factory.mktemp("course")
    done = student.run("-c", f"""
from autograder import content, spec
from autograder.gradebook.workspace import Workspace
content.use({str(ROOT)!r})
ws = Workspace({str(course_dir)!r})
for assignment in spec.available():
    print(ws.release(assignment))
""")
    assert done.returncode == 0, done.stdout + done.stderr
    return course_dir


SETUP_CELLS = """
import json, sys
from course import runtime
runtime.configure(threads=1)
for path in sys.argv[1:]:
    nb = json.load(open(path))
    namespace = {"__name__": "__main__"}
    setup = [c for c in nb["cells"] if c["cell_type"] == "code"
             and c["metadata"].get("nbgrader", {}).get("locked")
             and not c["metadata"]["nbgrader"].get("grade")
             and not c["metadata"]["nbgrader"].get("solution")]
    assert setup, path
    for cell in setup:
        exec(compile("".join(cell["source"]), path, "exec"), namespace)
    print("setup ran:", path)
"""


def test_released_setup_cells_run_in_the_student_install(student, released):
    from autograder import spec

    notebooks = [released / "release" / a / f"{a}.ipynb" for a in spec.available()]
    for nb in notebooks:
        text = nb.read_text()
        assert "### BEGIN SOLUTION" not in text and "grade_check" not in text
    done = student.run("-c", SETUP_CELLS, *map(str, notebooks))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("setup ran:") == len(notebooks)


def _hand_in(released: Path, assignment: str) -> Path:
    """alice hands in the reference of ``assignment``."""
    from autograder import fixtures

    release = json.loads((released / "release" / assignment / f"{assignment}.ipynb").read_text())
    nb = fixtures.submissions(assignment, {"alice": "reference"}, release)["alice"]
    path = released / "submitted" / "alice" / assignment / f"{assignment}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb))
    return path


@pytest.fixture(scope="module")
def submitted(released) -> Path:
    """The transformer: its attention checks are scored against the reference (not previewed)."""
    return _hand_in(released, "transformer")


@pytest.mark.slow
def test_release_and_grade_from_a_non_editable_install(student, released):
    _hand_in(released, "gan")  # the quickest of the five to train
    done = student.course("--content", str(ROOT), "grade", "gan", "--student", "alice",
                          "--workers", "1", "--course-dir", str(released))
    assert done.returncode == 0, done.stdout + done.stderr
    row = next(line for line in done.stdout.splitlines() if line.startswith("alice"))
    assert "15.00/15" in row and "all checks passed" in row, done.stdout
    assert (released / "gradebook.db").exists()


@pytest.mark.slow
def test_preview_in_the_student_install(student, submitted):
    """No content, no course directory: the attention checks (scored against the reference) are
    not previewed; the model is trained and scored on the public split."""
    before = set(student.work.iterdir())
    done = student.course("preview", str(submitted))
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    for grade_id in ("test_attention_unmasked", "test_attention_masked"):
        assert re.search(rf"^{grade_id} +not previewed", out, re.M), out
    assert re.search(r"^test_transformer_accuracy +6\.50/6\.5 .*your notebook's held-out split",
                     out, re.M), out
    assert "would score 8.00 of the 8 points previewed here (4 more are scored only when " \
           "graded; 12 in all)" in out
    words = " ".join(out.split())
    assert "fresh draw of held-out data" in words and "exact for the public split" in words
    assert set(student.work.iterdir()) == before  # no gradebook, nothing written
