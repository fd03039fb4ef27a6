import subprocess
import sys

import pytest

from autograder import cli

COMMANDS = ["release", "grade", "feedback", "export", "lectures", "demo"]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_subcommand_has_help(command, capsys):
    with pytest.raises(SystemExit) as done:
        cli.main([command, "--help"])
    assert done.value.code == 0
    assert "usage: course " + command in capsys.readouterr().out


def test_console_script_is_installed():
    out = subprocess.run([sys.executable, "-m", "autograder.cli", "--help"],
                         capture_output=True, text=True)
    assert out.returncode == 0
    for command in COMMANDS:
        assert command in out.stdout


def test_grading_before_release_says_what_to_run(tmp_path, capsys):
    assert cli.main(["grade", "cnn", "--course-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "not released" in err and "course release cnn" in err


def test_unknown_assignment(tmp_path, capsys):
    assert cli.main(["release", "quantum", "--course-dir", str(tmp_path)]) == 2
    assert "known assignments: cnn" in capsys.readouterr().err


def test_export_without_gradebook(tmp_path, capsys):
    assert cli.main(["export", "--course-dir", str(tmp_path)]) == 2
    assert "run `course grade` first" in capsys.readouterr().err


def test_release_then_grade_with_no_submissions(tmp_path, capsys):
    assert cli.main(["release", "cnn", "--course-dir", str(tmp_path)]) == 0
    released = tmp_path / "release" / "cnn" / "cnn.ipynb"
    text = released.read_text()
    assert "### BEGIN SOLUTION" not in text and "NotImplementedError" in text
    assert "grade_check" not in text  # hidden tests stay hidden
    assert cli.main(["grade", "cnn", "--course-dir", str(tmp_path)]) == 2
    assert "nothing to grade" in capsys.readouterr().err


@pytest.mark.parametrize("flag", ["--workers", "--trainers-per-gpu"])
def test_trainer_counts_below_one_are_refused_with_what_was_expected(flag, capsys):
    with pytest.raises(SystemExit) as done:
        cli.main(["grade", "cnn", flag, "0"])
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert "expected a whole number of at least 1, received '0'" in err and flag in err
