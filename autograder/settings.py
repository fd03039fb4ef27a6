"""Every timeout, cap and parallelism knob of grading, declared once, with its help.

Set them the way nbgrader's own settings are set, in the course directory's
``nbgrader_config.py`` (traitlets)::

    c.CourseGrading.sandbox_parallel = 4
    c.CourseGrading.trainer_memory_mb = 8192

or for one run by flag (``course grade cnn --sandbox-parallel 4``; a flag wins over the file).
``course grade --help`` lists them. Environment variables stay only where an ecosystem defines
one: ``KERAS_BACKEND``, ``DASK_SCHEDULER_ADDRESS``, ``CUDA_VISIBLE_DEVICES``.

Limits that belong to one assignment (a task's epochs, ``max_seconds`` and memory; the sandbox's
``SandboxSpec``) are data in its spec, not settings.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from traitlets import Bool, Enum, Float, Int, Unicode
from traitlets.config import Configurable
from traitlets.config.loader import PyFileConfigLoader

CONFIG = "nbgrader_config.py"


class SettingsError(ValueError):
    """A setting's value cannot be used; the message names it."""


class CourseGrading(Configurable):
    """How ``course grade`` (and preview, calibration, tuning) run."""

    max_seconds = Float(600.0, min=1.0, help=(
        "Training seconds of a task whose budget sets no max_seconds.")).tag(config=True)
    limit_factor = Float(1.5, min=1.0, help=(
        "A training job is stopped after its max_seconds times this plus limit_slack (the kinds "
        "stop fitting at max_seconds themselves; this is the hard stop).")).tag(config=True)
    limit_slack = Float(120.0, min=0.0, help=(
        "Seconds added to the hard stop of every training job (data loading, compiling, "
        "scoring).")).tag(config=True)
    trainer_memory_mb = Int(6144, min=256, help=(
        "Resident memory a trainer may use for one job when the task's budget sets no "
        "memory_mb; over it the job fails and the trainer is replaced.")).tag(config=True)
    trainer_threads = Int(1, min=1, help=(
        "CPU threads per trainer process (also per trainer on a Dask worker).")).tag(config=True)
    compile_cache = Unicode(str(Path("~/.cache/course-grader/xla").expanduser()), help=(
        "Folder where JAX trainers keep the programs XLA compiled, so the same model trained "
        "again (another seed, a regrade, the next submission with the same layers) skips "
        "compiling; results are identical either way. Empty: no cache. TensorFlow and PyTorch "
        "trainers ignore it.")).tag(config=True)
    trainer_start_seconds = Float(300.0, min=1.0, help=(
        "How long a trainer process may take to start (importing Keras) before the pool gives "
        "up on it.")).tag(config=True)
    workers = Int(None, min=1, allow_none=True, help=(
        "Local trainer processes (default: on GPUs, as many as each GPU's memory holds; else "
        "one per core).")).tag(config=True)
    trainers_per_gpu = Int(None, min=1, allow_none=True, help=(
        "Local trainers sharing each GPU (default: from its free memory and a first training's "
        "footprint; with a Dask scheduler, the workers' --nthreads decide).")).tag(config=True)
    sandbox_parallel = Int(8, min=1, help=(
        "Most sandboxes running at once (never more than the CPU cores or the submissions)."
    )).tag(config=True)
    submission_threads = Int(64, min=1, help=(
        "Most submissions in flight at once (each waits on its sandbox slot and its trainers)."
    )).tag(config=True)
    calibration_sandboxes = Int(2, min=1, help=(
        "course calibrate: case notebooks run through the sandbox at once.")).tag(config=True)
    sandbox_level = Enum(["auto", "namespaces", "rlimits"], "auto", help=(
        "Isolation of the sandbox: auto (the strongest that works here), or force namespaces or "
        "rlimits (the weak level: resource limits only).")).tag(config=True)
    sandbox_start = Enum(["fork", "exec"], "fork", help=(
        "How a sandbox starts: fork (from a template process that imported Keras once; about a "
        "second per submission) or exec (a fresh Python each time, paying the imports)."
    )).tag(config=True)
    require_isolation = Bool(False, help=(
        "Refuse to grade where the sandbox cannot isolate student code (the rlimits level)."
    )).tag(config=True)
    tune_timeout = Float(3600.0, min=1.0, help=(
        "course tune as chief or worker: exit after this many seconds whatever happens."
    )).tag(config=True)

    def job_limit(self, budget: dict | None = None) -> float:
        """Seconds after which a training job of a task with ``budget`` is stopped."""
        seconds = float((budget or {}).get("max_seconds") or self.max_seconds)
        return seconds * self.limit_factor + self.limit_slack

    def memory_mb(self, budget: dict | None = None) -> int:
        """Resident memory one job of a task with ``budget`` may take."""
        return int((budget or {}).get("memory_mb") or self.trainer_memory_mb)


DEFAULTS = CourseGrading()


def names() -> list[str]:
    return sorted(CourseGrading.class_own_traits(config=True))


def load(course_dir: Path | None = None, overrides: dict | None = None) -> CourseGrading:
    """Settings from ``course_dir/nbgrader_config.py`` (when there is one), then ``overrides``
    (name -> value; None means not given)."""
    config = None
    if course_dir is not None and (Path(course_dir) / CONFIG).is_file():
        try:
            config = PyFileConfigLoader(CONFIG, path=str(course_dir)).load_config()
        except Exception as err:  # the instructor's Python file: a typo in it, say where
            raise SettingsError(f"cannot read {Path(course_dir) / CONFIG}: "
                                f"{type(err).__name__}: {err}") from None
    try:
        settings = CourseGrading(config=config) if config is not None else CourseGrading()
        for name, value in (overrides or {}).items():
            if value is not None:
                setattr(settings, name, value)
    except Exception as err:  # traitlets' TraitError names the trait and the value
        raise SettingsError(f"a grading setting is not usable: {err}; see `course grade --help` "
                            f"or c.CourseGrading in {CONFIG}") from None
    return settings


def at_least(kind: type, minimum: float | None):
    """An argparse type: ``kind`` (int or float) of at least ``minimum``, else an error saying
    what was expected and what was received."""
    what = "a whole number" if kind is int else "a number"
    wanted = what if minimum is None else f"{what} of at least {minimum:g}"

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or (minimum is not None and value < minimum):
            raise argparse.ArgumentTypeError(f"expected {wanted}, received {text!r}")
        return value

    parse.__name__ = kind.__name__  # argparse names the type in its own messages
    return parse


def add_flags(parser: argparse.ArgumentParser, chosen: list[str] | None = None, *,
              in_course: bool = True) -> None:
    """One flag per setting (``--sandbox-parallel N``; ``chosen``: only these), each with its
    help and default; ``in_course``: the command reads the course's config file too."""
    group = parser.add_argument_group("settings", (
        f"also c.CourseGrading.NAME = VALUE in the course's {CONFIG}; a flag wins" if in_course
        else "declared with the grading settings (autograder/settings.py)"))
    for name in chosen or names():
        trait = CourseGrading.class_traits()[name]
        flag = "--" + name.replace("_", "-")
        default = trait.default_value
        shown = "decided at run time" if default is None else default
        helptext = trait.help if "(default:" in trait.help else f"{trait.help} (default: {shown})"
        if isinstance(trait, Bool):
            group.add_argument(flag, dest=name, action="store_true", default=None, help=helptext)
            continue
        kind = {Int: int, Float: float}.get(type(trait), str)
        choices = list(trait.values) if isinstance(trait, Enum) else None
        parse = at_least(kind, getattr(trait, "min", None)) if kind is not str else str
        group.add_argument(flag, dest=name, type=parse, choices=choices, default=None,
                           metavar=None if choices else "N" if kind is int else "X",
                           help=helptext)


def from_args(course_dir: Path | None, args: argparse.Namespace) -> CourseGrading:
    """The settings of one command: the course's file, then the flags given."""
    return load(course_dir, {name: getattr(args, name, None) for name in names()})
