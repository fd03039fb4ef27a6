"""Grading settings: declared once (autograder.settings), set in the course's nbgrader_config.py
or by flag (a flag wins), checked with a message naming the setting, listed by --help, and used
where grading decides (time limits, memory, sandboxes at once, isolation)."""
from __future__ import annotations

import pytest

from autograder import cli, pipeline, settings
from autograder.trusted import pool
from autograder import spec as specs
from autograder.sandbox import isolation
from autograder.gradebook.workspace import Workspace


def _course(tmp_path, *lines: str):
    Workspace(tmp_path).init()
    with (tmp_path / settings.CONFIG).open("a") as config:
        config.write("".join(f"{line}\n" for line in lines))
    return tmp_path


def test_the_course_config_sets_values_and_a_flag_wins(tmp_path):
    course = _course(tmp_path, "c.CourseGrading.sandbox_parallel = 3",
                     "c.CourseGrading.trainer_memory_mb = 2048")
    chosen = settings.load(course)
    assert (chosen.sandbox_parallel, chosen.trainer_memory_mb) == (3, 2048)
    assert chosen.max_seconds == settings.DEFAULTS.max_seconds  # untouched ones keep defaults
    args = cli.build_parser().parse_args(["grade", "cnn", "--sandbox-parallel", "5"])
    assert settings.from_args(course, args).sandbox_parallel == 5
    assert settings.from_args(course, args).trainer_memory_mb == 2048


def test_settings_in_the_course_config_survive_another_release(tmp_path):
    course = str(tmp_path)
    assert cli.main(["release", "perceptron", "--course-dir", course]) == 0
    _course(tmp_path, "c.CourseGrading.workers = 3")
    assert cli.main(["release", "cnn", "--course-dir", course]) == 0
    assert settings.load(tmp_path).workers == 3


def test_a_course_without_a_config_gets_the_defaults(tmp_path):
    assert settings.load(tmp_path).job_limit() == settings.DEFAULTS.job_limit()
    assert settings.load(None).sandbox_level == "auto"


@pytest.mark.parametrize("line,named", [
    ("c.CourseGrading.sandbox_parallel = 0", "sandbox_parallel"),
    ("c.CourseGrading.sandbox_level = 'none'", "sandbox_level")])
def test_an_unusable_value_is_refused_naming_the_setting(tmp_path, capsys, line, named):
    course = _course(tmp_path, line)
    with pytest.raises(settings.SettingsError, match=named):
        settings.load(course)
    assert cli.main(["grade", "cnn", "--course-dir", str(course)]) == 2
    err = capsys.readouterr().err
    assert named in err and "course grade --help" in err


def test_a_broken_course_config_is_named(tmp_path):
    course = _course(tmp_path, "c.CourseGrading.workers = (")
    with pytest.raises(settings.SettingsError, match="cannot read .*nbgrader_config.py: "
                                                     "SyntaxError"):
        settings.load(course)


def test_grade_help_lists_every_grading_setting(capsys):
    with pytest.raises(SystemExit):
        cli.main(["grade", "--help"])
    out = capsys.readouterr().out
    for name in cli.GRADE_SETTINGS:
        assert "--" + name.replace("_", "-") in out, name
    assert "c.CourseGrading.NAME" in out


def test_time_and_memory_limits_follow_the_settings():
    spec = specs.load("cnn")
    task = next(iter(spec.tasks))
    budget = spec.tasks[task].budget
    fast = settings.load(None, {"max_seconds": 10.0, "limit_factor": 2.0, "limit_slack": 5.0})
    expected = float(budget.get("max_seconds") or 10.0) * 2.0 + 5.0
    assert pipeline.Plan(spec, settings=fast).limit(task) == expected
    job = {"spec": {"tasks": {task: {"budget": {}}}}, "task": task}
    small = settings.load(None, {"trainer_memory_mb": 1024})
    assert pool.memory_limit_mb(job, small) == 1024
    assert pool.memory_limit_mb(job) == settings.DEFAULTS.trainer_memory_mb


def test_the_sandbox_level_setting_forces_the_weak_level():
    try:
        isolation.use_level("rlimits")
        assert isolation.level() == "rlimits"
        assert "sandbox_level setting" in isolation.weakness()
    finally:
        isolation.use_level("auto")


def test_the_readme_lists_every_setting():
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    for name in settings.names():
        assert f"`{name}`" in readme, name
