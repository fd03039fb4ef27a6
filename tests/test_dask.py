"""Dask cluster mode (``course grade --scheduler``): on a loopback scheduler with two worker
processes, grading gives the same gradebook as serial grading (one sandbox at a time, one
trainer) and as pipelined multi-trainer grading (sandboxes in parallel, two trainers); jobs that
no worker can take fail fast with what to do.

The grading runs use the perceptron assignment with a shorter training budget (5 epochs instead
of 100): the point here is that every mode trains identically, not the thresholds.
"""
from __future__ import annotations

import copy
import os
import time

import pytest

from autograder import cli, demo
from autograder import spec as specs
from autograder.trusted.dask_pool import DaskPool, DaskPoolError, NoWorkerError
from autograder.gradebook.workspace import COURSE_ID, Workspace

ASSIGNMENT = "perceptron"
STUDENTS = ["alice", "carol"]  # the reference; a linear hidden layer (partial accuracy)


def _cluster(n_workers: int, **kwargs):
    from distributed import LocalCluster

    return LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                        host="127.0.0.1", dashboard_address=":0", **kwargs)


@pytest.fixture(scope="module")
def cluster():
    """The loopback cluster CI grades on: a scheduler and two single-thread worker processes."""
    with _cluster(2) as c:
        yield c


# -- fast: the clear errors -------------------------------------------------------------------
def test_jobs_needing_a_gpu_no_worker_has_fail_fast_with_what_to_do(cluster):
    t0 = time.monotonic()
    with pytest.raises(NoWorkerError) as err:
        DaskPool(cluster.scheduler_address, gpu=True).start()
    message = str(err.value)
    assert time.monotonic() - t0 < 30
    assert "expected a worker with the resource GPU=1" in message  # expected
    assert "received 2 worker(s)" in message and "no resources" in message  # received
    assert "--resources GPU=1" in message and cluster.scheduler_address in message  # the fix


def test_cpu_workers_take_jobs_without_gpu_resources(cluster):
    with DaskPool(cluster.scheduler_address) as pool:
        assert pool.resources == {}
        assert len(pool.devices) == 2 and all(d.endswith("(CPU)") for d in pool.devices)
        assert {w["backend"] for w in pool.describe().values()} == {"tensorflow"}


def test_jobs_wait_no_longer_than_the_grace_when_gpu_workers_leave():
    with _cluster(1, resources={"GPU": 1}) as gpu_cluster:
        pool = DaskPool(gpu_cluster.scheduler_address, no_worker_grace=1, poll=0.2)
        with pool:
            assert pool.resources == {"GPU": 1}  # the cluster has a GPU worker: jobs ask for one
            gpu_cluster.scale(0)
            deadline = time.monotonic() + 30
            while pool._workers() and time.monotonic() < deadline:
                time.sleep(0.1)
            future = pool.submit({"spec": {"assignment": ASSIGNMENT}, "task": "mlp"})
            with pytest.raises(NoWorkerError, match="GPU=1.*could take them for 1 s"):
                future.result(timeout=30)


def test_an_unreachable_scheduler_or_none_at_all_says_how_to_start_one(monkeypatch):
    with pytest.raises(DaskPoolError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:9"):
        DaskPool("tcp://127.0.0.1:9", connect_timeout=2).start()
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    with pytest.raises(DaskPoolError, match="dask scheduler"):
        DaskPool().start()


def test_a_scheduler_without_workers_fails_at_start():
    with _cluster(0) as empty:
        with pytest.raises(NoWorkerError, match="received none after 1 s"):
            DaskPool(empty.scheduler_address, wait_for_workers=1).start()


def test_a_worker_whose_trainer_cannot_start_says_so_and_tries_again_next_time():
    with _cluster(1, env={"KERAS_BACKEND": "nonsense"}) as broken, \
            DaskPool(broken.scheduler_address) as pool:
        for _ in range(2):  # the second job is not stuck behind the first one's stopped trainers
            with pytest.raises(DaskPoolError, match="KERAS_BACKEND='nonsense' is not supported"):
                pool.submit({"spec": {"assignment": ASSIGNMENT}, "task": "mlp"}).result(60)


def test_course_grade_honours_dask_scheduler_address(cluster, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", cluster.scheduler_address)
    assert cli.main(["grade", ASSIGNMENT, "--course-dir", str(tmp_path), "--gpu"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("course grade: no Dask worker can take the training jobs")
    assert cluster.scheduler_address in err and "--gpu was given" in err


# -- slow: the same gradebook in every mode ---------------------------------------------------
def _short(spec: specs.Spec, epochs: int = 5) -> specs.Spec:
    raw = copy.deepcopy(spec.raw)
    for task in raw["tasks"].values():
        if "epochs" in task.get("budget", {}):
            task["budget"]["epochs"] = epochs
    return specs.from_dict(raw, f"{spec.assignment} with {epochs} epochs")


def _gradebook(ws: Workspace) -> dict:
    """Everything grading recorded, less timings: per student the saved result (score, each
    check's points and message, each task's metrics, curves and models) and nbgrader's own
    gradebook (each grade cell's score) and CSV row."""
    from nbgrader.api import Gradebook

    out = {}
    with Gradebook(ws.db_url, COURSE_ID) as gb:
        for student in STUDENTS:
            saved = ws.load_result(ASSIGNMENT, student)
            cells = gb.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, student).grades
            out[student] = {
                "score": saved["score"],
                "checks": [(c["grade_id"], c["points"], c["message"]) for c in saved["checks"]],
                "results": {task: {k: v for k, v in r.items() if k != "timings"}
                            for task, r in saved["results"].items()},
                "cells": sorted((g.name, g.score) for g in cells),
            }
    from autograder.gradebook.workspace import read_csv

    out["csv"] = sorted(tuple(sorted(row.items())) for row in read_csv(ws.export_csv()))
    return out


@pytest.mark.slow
def test_serial_multi_trainer_and_dask_give_identical_gradebooks(cluster, tmp_path, monkeypatch,
                                                                 capsys):
    ws = Workspace(tmp_path / "course")
    ws.release(ASSIGNMENT)
    demo.make_submissions(ws, ASSIGNMENT, {s: demo.students(ASSIGNMENT)[s] for s in STUDENTS})
    short = _short(specs.load(ASSIGNMENT))
    load = specs.load
    monkeypatch.setattr(specs, "load", lambda a: short if a == ASSIGNMENT else load(a))
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    common = ["grade", ASSIGNMENT, "--course-dir", str(ws.root), "--force"]
    books, seconds = {}, {}
    for mode, extra in [("serial", ["--workers", "1"]), ("multi-trainer", ["--workers", "2"]),
                        ("dask", ["--scheduler", cluster.scheduler_address])]:
        t0 = time.perf_counter()
        with monkeypatch.context() as serially:
            if mode == "serial":  # one sandbox at a time too (the pipeline sizes by the cores)
                serially.setattr(os, "cpu_count", lambda: 1)
            assert cli.main(common + extra) == 0, capsys.readouterr().err
        seconds[mode] = round(time.perf_counter() - t0, 1)
        books[mode] = _gradebook(ws)
    printed = capsys.readouterr().out
    serial = books["serial"]
    assert serial["alice"]["score"] > serial["carol"]["score"]  # the budget still separates them
    assert all(r["ok"] for s in STUDENTS for r in serial[s]["results"].values())
    for mode in ("multi-trainer", "dask"):
        for key in serial:
            assert books[mode][key] == serial[key], \
                f"{mode} differs from serial for {key}:\n{books[mode][key]}\n{serial[key]}"
    assert "alice" in printed, printed
    print(f"seconds per mode: {seconds}")


@pytest.mark.slow
def test_a_job_over_its_time_limit_on_a_worker_is_that_jobs_failure(cluster):
    import keras

    from autograder.trusted import trainer
    from solutions.perceptron import build_mlp

    model = build_mlp(2)
    export = {"ok": True, "config": keras.saving.serialize_keras_object(model),
              "compile_config": model.get_compile_config()}
    job = trainer.job(specs.load(ASSIGNMENT), "mlp", {"build_mlp": export}, 0)
    with DaskPool(cluster.scheduler_address) as pool:
        slow = pool.submit(job, timeout=0.5).result()
        short = trainer.job(_short(specs.load(ASSIGNMENT), 2), "mlp", {"build_mlp": export}, 0)
        quick = pool.submit(short, timeout=300).result()
    assert not slow["ok"] and "longer than" in slow["error"]
    assert quick["ok"] and quick["models"]["build_mlp"]["output_shape"] == [None, 1]
