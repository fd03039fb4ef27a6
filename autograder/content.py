"""Where the course content is: what instructors have and students never get.

Two audiences, one repository. The wheel (``pip wheel .``) is what students install: the
``course`` library and the grading machinery (``autograder``: specs, sandbox, trainer, checks,
``course preview``), with no reference solution. The *course content* stays out of it:

- ``solutions/``: the reference implementations (one module per assignment);
- ``assignments/<id>/<id>.py``: the notebook sources (their solution cells are copied from
  ``solutions/``);
- ``autograder/fixtures/<id>/*.py``: the common mistakes graded by the demo, tests and benches.

A content folder has the checkout's layout, so a checkout of this repository is one. It is
found, first match wins:

1. ``course --content DIR ...``, or the ``COURSE_CONTENT`` environment variable (the flag sets
   the variable, so trusted workers started by the command find the same folder);
2. the checkout this package runs from (an editable install, or running from the source tree);
3. the current directory, when it is a content folder.

Nothing here imports Keras.
"""
from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from pathlib import Path

ENV = "COURSE_CONTENT"
PACKAGE_DIR = Path(__file__).resolve().parent


class ContentMissing(FileNotFoundError):
    """An instructor step needs the course content and none was found."""


def is_content(path: Path) -> bool:
    """A folder with ``assignments/`` and the ``solutions`` package."""
    path = Path(path)
    return (path / "assignments").is_dir() and (path / "solutions" / "__init__.py").is_file()


def use(path: Path | str) -> Path:
    """Use ``path`` as the content folder in this process and the processes it starts."""
    path = Path(path).expanduser().resolve()
    if not is_content(path):
        raise ContentMissing(f"{path} is not a course content folder: expected assignments/ "
                             "and solutions/ in it (a checkout of this repository is one)")
    os.environ[ENV] = str(path)
    return path


def find() -> Path | None:
    """The content folder, or None (a student install)."""
    named = os.environ.get(ENV)
    if named:
        path = Path(named).expanduser().resolve()
        if not is_content(path):
            raise ContentMissing(f"{ENV}={named} is not a course content folder: expected "
                                 "assignments/ and solutions/ in it")
        return path
    for candidate in (PACKAGE_DIR.parent, Path.cwd()):
        if is_content(candidate):
            return candidate.resolve()
    return None


def root() -> Path:
    """The content folder; raises :class:`ContentMissing` with what to do when there is none."""
    found = find()
    if found is None:
        raise ContentMissing(
            "this needs the course content (solutions/, assignments/), which the installed "
            "package does not hold: run from a checkout of the course repository, or name one "
            f"with `course --content DIR ...` or {ENV}=DIR")
    return found


def assignments_dir() -> Path:
    return root() / "assignments"


def solutions_dir() -> Path:
    return root() / "solutions"


def fixtures_dir() -> Path:
    """The common-mistake fixtures: the content folder's, else this package's own folder (a
    student install has none; :mod:`autograder.fixtures` then says so)."""
    found = find()
    return (found if found is not None else PACKAGE_DIR.parent) / "autograder" / "fixtures"


def has_solutions() -> bool:
    """True where the reference solutions can be imported (never in a student install)."""
    try:
        return find() is not None
    except ContentMissing:
        return False


def import_solutions():
    """The ``solutions`` package of the content folder, importable from here on."""
    loaded = sys.modules.get("solutions")
    if loaded is not None:
        return loaded
    target = solutions_dir()
    found = importlib.util.find_spec("solutions")
    if found is not None and found.submodule_search_locations and any(
            Path(p).resolve() == target for p in found.submodule_search_locations):
        return importlib.import_module("solutions")
    spec = importlib.util.spec_from_file_location(
        "solutions", target / "__init__.py", submodule_search_locations=[str(target)])
    module = importlib.util.module_from_spec(spec)
    sys.modules["solutions"] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules["solutions"]
        raise
    return module


def solution_function(target: str):
    """``"solutions.transformer:scaled_dot_product_attention"`` -> that function."""
    module_name, name = target.split(":")
    import_solutions()
    return getattr(importlib.import_module(module_name), name)


def hidden_paths() -> list[Path]:
    """What a sandboxed process must not see of the content (existing paths only): the whole
    folder when nothing the sandbox runs lives in it (this package, the interpreter, anything on
    ``sys.path``), else its instructor-only parts."""
    paths = []
    found = importlib.util.find_spec("solutions") if "solutions" not in sys.modules else None
    module = sys.modules.get("solutions")
    locations = (module.__path__ if module is not None
                 else (found.submodule_search_locations or []) if found is not None else [])
    paths += [Path(p) for p in locations]
    try:
        folder = find()
    except ContentMissing:
        folder = None
    if folder is not None:
        running = [PACKAGE_DIR, Path(sys.prefix).resolve(), Path(sys.executable).resolve(),
                   *(Path(p).resolve() for p in sys.path if p)]  # e.g. a .venv in the checkout
        if not any(p == folder or folder in p.parents for p in running):
            paths.append(folder)
        else:
            paths += [folder / "solutions", folder / "assignments", folder / "tests",
                      folder / "bench", folder / "autograder" / "fixtures",
                      folder / "autograder" / "specs",
                      folder / "autograder" / "trusted" / "challenges"]
    unique = []
    for p in paths:
        p = Path(p).resolve()
        if p.exists() and p not in unique:
            unique.append(p)
    return unique
