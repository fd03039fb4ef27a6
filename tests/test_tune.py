"""`course tune`: keras-tuner over the reference builder's search space, resumable, and
distributed with keras-tuner's own chief/worker mode on loopback."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from autograder import tune

pytestmark = pytest.mark.slow

TINY = ["--trials", "2", "--epochs", "1"]


def _course(*args, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.Popen([sys.executable, "-m", "autograder.cli", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kwargs)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _completed(directory) -> list[dict]:
    rows = []
    for path in sorted(directory.glob("*/trial_*/trial.json")):
        trial = json.loads(path.read_text())
        if trial["status"] == "COMPLETED":
            rows.append(trial)
    return rows


def test_a_search_writes_its_trials_and_best_and_resumes(tmp_path):
    first = tune.run("cnn", trials=2, epochs=1, out=tmp_path, progress=False)
    table = (tmp_path / "cnn" / "trials.md").read_text()
    assert table.count("| COMPLETED |") == 2 and "learning_rate" in table
    best = json.loads((tmp_path / "cnn" / "best_hyperparameters.json").read_text())
    assert set(best["hyperparameters"]) == {"width", "dense_units", "learning_rate"}
    assert 0.0 <= best["score"] <= 1.0 and first["best"] == best
    before = {t["trial_id"]: t["score"] for t in _completed(tmp_path / "cnn")}
    tune.run("cnn", trials=3, epochs=1, out=tmp_path, progress=False)  # resumes: one more
    after = {t["trial_id"]: t["score"] for t in _completed(tmp_path / "cnn")}
    assert len(after) == 3 and all(after[k] == v for k, v in before.items())


def test_a_task_that_is_not_a_classifier_is_refused_with_the_reason():
    with pytest.raises(tune.TuneError, match="no classifier task.*gan"):
        tune.run("gan", out="unused")


def test_chief_and_two_workers_on_loopback_finish_the_search(tmp_path):
    oracle = f"127.0.0.1:{_free_port()}"
    common = ["tune", "cnn", "--trials", "4", "--epochs", "1", "--out", str(tmp_path),
              "--oracle", oracle, "--timeout", "400"]
    chief = _course(*common, "--chief")
    time.sleep(2)
    workers = [_course(*common, "--worker", str(i)) for i in (1, 2)]
    outputs = [p.communicate(timeout=420)[0] for p in workers]
    chief_out = chief.communicate(timeout=120)[0]
    assert chief.returncode == 0, chief_out[-2000:]
    for p, out in zip(workers, outputs):
        assert p.returncode == 0 and "worker done" in out, out[-2000:]
    table = (tmp_path / "cnn" / "trials.md").read_text()
    assert table.count("| COMPLETED |") == 4, table
    assert json.loads((tmp_path / "cnn" / "best_hyperparameters.json").read_text())["score"]


def test_a_worker_exits_when_its_chief_dies(tmp_path):
    oracle = f"127.0.0.1:{_free_port()}"
    common = ["tune", "cnn", "--trials", "50", "--epochs", "1", "--out", str(tmp_path),
              "--oracle", oracle, "--timeout", "300"]
    chief = _course(*common, "--chief", start_new_session=True)
    worker = _course(*common, "--worker", "1")
    deadline = time.monotonic() + 240
    while not _completed(tmp_path / "cnn") and time.monotonic() < deadline:
        time.sleep(1)
    assert _completed(tmp_path / "cnn"), "no trial finished"
    os.killpg(chief.pid, signal.SIGKILL)
    chief.wait(10)
    start = time.monotonic()
    out = worker.communicate(timeout=120)[0]
    assert worker.returncode == tune.CHIEF_GONE_EXIT, out[-2000:]
    assert "stopped answering" in out
    assert time.monotonic() - start < 60


def test_a_worker_without_a_chief_gives_up_at_its_timeout(tmp_path):
    oracle = f"127.0.0.1:{_free_port()}"
    worker = _course("tune", "cnn", "--worker", "1", "--oracle", oracle, "--timeout", "15",
                     "--out", str(tmp_path))
    out = worker.communicate(timeout=120)[0]
    assert worker.returncode == tune.CHIEF_GONE_EXIT, out[-2000:]
    assert "--timeout" in out



def test_the_watchdog_leaves_even_when_its_message_cannot_be_written(monkeypatch):
    class ClosedPipe:
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

        def flush(self):
            raise BrokenPipeError(32, "Broken pipe")

    codes = []
    monkeypatch.setattr(sys, "stderr", ClosedPipe())
    monkeypatch.setattr(tune.os, "_exit", codes.append)
    tune._exit("course tune: stopped")
    assert codes == [tune.CHIEF_GONE_EXIT]
