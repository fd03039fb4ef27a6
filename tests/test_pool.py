"""The trainer pool's own failure paths: a broken installation fails every job fast (and keeps
failing fast, never hanging), and GPU ids keep the numbering CUDA_VISIBLE_DEVICES gave them.
How many trainers share a GPU: chosen from its free memory and a first job's footprint, and a
pool that grows while jobs wait. Equal jobs of one run train once."""
from __future__ import annotations

import pytest

from autograder.trusted import pool as pools
from autograder.settings import DEFAULTS


def test_trainers_that_cannot_start_fail_each_submit_without_hanging():
    broken = [{"KERAS_BACKEND": "no-such-backend", "CUDA_VISIBLE_DEVICES": ""}]
    with pools.WorkerPool(size=1, envs=broken) as pool:
        for _ in range(2):  # the second submit must not wait on a dead dispatcher
            future = pool.submit({"spec": {}, "task": "x", "seed": 0, "exports": {}}, timeout=60)
            with pytest.raises(pools.WorkerStartError, match="failed to start"):
                future.result(timeout=120)
        assert pool.workers == []  # nothing half-started is left running


def test_gpu_ids_keep_the_visible_numbering(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3,5")
    assert pools.gpu_ids() == ["3", "5"]
    size, envs = pools.default_size(per_gpu=2)
    assert size == 4 and [e["CUDA_VISIBLE_DEVICES"] for e in envs] == ["3", "3", "5", "5"]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert pools.gpu_ids() == [] and pools.visible_gpus() == 0


# -- several trainers per GPU, chosen from its memory ----------------------------------------
def test_trainers_per_gpu_follow_free_memory_cores_and_the_cap():
    from autograder.trusted.gpu_share import trainers_per_gpu

    assert trainers_per_gpu(80_000, 1_200, cores=16) == 8  # an H100 and small models: 8
    assert trainers_per_gpu(80_000, 1_200, cores=64) == 8  # never more than the cap
    assert trainers_per_gpu(80_000, 1_200, gpus=4, cores=16) == 2  # cores shared by 4 GPUs
    assert trainers_per_gpu(6_000, 1_200, cores=16) == 2  # half of free memory: 3000 MiB
    assert trainers_per_gpu(500, 4_000, cores=16) == 1  # too little memory: still one


def _unexported_job(cnn_spec) -> dict:
    """A real job that the trainer answers quickly (the builder was not exported)."""
    from autograder.trusted import trainer

    return trainer.job(cnn_spec, "cnn", {"build_cnn": {"ok": False, "error": "not defined"}}, 0)


def _training_job(cnn_spec) -> dict:
    """A real job that trains (one epoch of a small dense model)."""
    import dataclasses

    import keras

    from autograder.trusted import trainer

    model = keras.Sequential([keras.Input((16, 16, 1)), keras.layers.Flatten(),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    export = {"ok": True, "config": keras.saving.serialize_keras_object(model),
              "compile_config": model.get_compile_config()}
    task = cnn_spec.raw["tasks"]["cnn"]
    raw = {**cnn_spec.raw, "tasks": {**cnn_spec.raw["tasks"],
                                     "cnn": {**task, "budget": {**task["budget"], "epochs": 1}}}}
    return trainer.job(dataclasses.replace(cnn_spec, raw=raw), "cnn", {"build_cnn": export}, 0)


def test_a_gpu_gets_more_trainers_after_its_first_training_measures_one(monkeypatch, cnn_spec):
    """One trainer starts on the (here simulated) GPU. A job that trains nothing measures
    nothing; after the first one that trains, the GPU's used memory grew by 1000 MiB, and 4000
    MiB were free: half of that holds 2 trainers, so one more starts and takes jobs. The
    simulated GPU id only sets CUDA_VISIBLE_DEVICES; training is on the CPU."""
    from autograder.trusted import gpu_share

    readings = iter([{"0": (5_000, 1_000)}])  # before any trainer: 4000 MiB free
    monkeypatch.setattr(pools, "gpu_ids", lambda: ["0"])
    monkeypatch.setattr(gpu_share, "memory_mib",
                        lambda ids: next(readings, {"0": (5_000, 2_000)}))
    monkeypatch.setattr(gpu_share.os, "cpu_count", lambda: 16)
    with pools.WorkerPool() as pool:
        first = pool.submit(_unexported_job(cnn_spec), timeout=300).result(timeout=600)
        assert pool.sizing == [] and first["timings"].get("fit") is None
        futures = [pool.submit(_training_job(cnn_spec), timeout=300) for _ in range(3)]
        answers = [first] + [f.result(timeout=600) for f in futures]
        for thread in pool._growers:
            thread.join(300)
        assert len(pool.workers) + pool._ready.qsize() == 2
        assert pool.sizing == [pool.sizing[0]] and "4000 MiB free" in pool.sizing[0]
        assert "1000 MiB" in pool.sizing[0] and "-> 2 trainer(s)" in pool.sizing[0]
        more = pool.submit(_unexported_job(cnn_spec), timeout=300).result(timeout=600)
        workers = list(pool.workers)
    assert len(workers) == 2  # the new trainer joined the pool
    assert all(w.proc.poll() is not None for w in workers)  # and closed with it
    assert "not defined" in first["error"] and "not defined" in more["error"]
    assert all(a["ok"] and a["timings"]["fit"] > 0 for a in answers[1:])


def test_a_pool_can_grow_while_jobs_wait(cnn_spec):
    with pools.WorkerPool(size=1) as pool:
        futures = [pool.submit(_unexported_job(cnn_spec), timeout=300) for _ in range(6)]
        pool.grow([{"CUDA_VISIBLE_DEVICES": ""}]).join(300)
        answers = [f.result(timeout=600) for f in futures]
        answers.append(pool.submit(_unexported_job(cnn_spec), timeout=300).result(timeout=600))
        workers = list(pool.workers)
    assert len(workers) == 2 and all(w.proc.poll() is not None for w in workers)
    assert all("not defined" in (a["error"] or "") for a in answers)


# -- every trusted job is bounded: time and memory -------------------------------------------
def _with_budget(job: dict, **budget) -> dict:
    task = job["spec"]["tasks"][job["task"]]
    tasks = {**job["spec"]["tasks"], job["task"]: {**task, "budget": {**task["budget"], **budget}}}
    return {**job, "spec": {**job["spec"], "tasks": tasks}}


def test_a_job_over_its_memory_or_time_limit_is_its_own_failure_and_the_next_job_runs(cnn_spec):
    """A trainer holds Keras and its data (hundreds of MB) before a model trains, so a budget
    of 100 MB is crossed at once: the job fails with the reason, its trainer is replaced, and
    the next job (the default limit) trains on the new one. A job over its time limit ends the
    same way. The grading process (this one) never holds what its trainers hold: its peak
    resident memory grows by less than 300 MB over the three jobs."""
    import resource

    assert pools.memory_limit_mb(_training_job(cnn_spec)) == DEFAULTS.trainer_memory_mb
    tight = _with_budget(_training_job(cnn_spec), memory_mb=100)
    assert pools.memory_limit_mb(tight) == 100
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    with pools.WorkerPool(size=1) as pool:
        pool.start()
        first_pid = pool.workers[0].proc.pid
        over = pool.submit(tight, timeout=300).result(timeout=600)
        slow = pool.submit(_with_budget(_training_job(cnn_spec), epochs=500, patience=500),
                           timeout=2).result(timeout=600)  # a time bomb: 500 epochs in 2 s
        after = pool.submit(_training_job(cnn_spec), timeout=300).result(timeout=600)
        third_pid = pool.workers[0].proc.pid
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before) / 1024
    assert not over["ok"] and "training needed more than 0.1 GB of memory" in over["error"]
    assert "smaller model" in over["error"]
    assert not slow["ok"] and "training took longer than 2 s and was stopped" in slow["error"]
    assert third_pid != first_pid  # the overruns replaced their trainers
    assert after["ok"] and after["timings"]["fit"] > 0
    assert grown_mb < 300, grown_mb


class _CountingPool:
    """Answers each job later, when told; counts what it was asked to train."""

    def __init__(self):
        self.futures = []

    def submit(self, job, *, timeout):
        from concurrent.futures import Future

        self.futures.append((job, Future()))
        return self.futures[-1][1]


def test_equal_jobs_of_a_run_train_once_and_each_gets_the_result():
    from autograder.trusted.trainer_pool import SharedJobs

    pool = _CountingPool()
    shared = SharedJobs(pool)
    job = {"spec": {"assignment": "a"}, "task": "t", "seed": 3, "exports": {"f": {"ok": True}}}
    first = shared.submit(job, timeout=10)
    twin = shared.submit({"task": "t", "exports": {"f": {"ok": True}}, "seed": 3,
                          "spec": {"assignment": "a"}}, timeout=10)  # same job, keys reordered
    other = shared.submit({**job, "seed": 4}, timeout=10)
    assert len(pool.futures) == 2 and not twin.done()  # waits on the first one's training
    pool.futures[0][1].set_result({"ok": True, "metrics": {"accuracy": 0.9},
                                   "timings": {"fit": 12.0}})
    assert first.result()["timings"] == {"fit": 12.0}
    assert twin.result(timeout=1) == first.result()  # whichever of the two came first
    pool.futures[1][1].set_exception(RuntimeError("no trainer"))
    with pytest.raises(RuntimeError, match="no trainer"):
        other.result(timeout=1)
    again = shared.submit({**job, "seed": 4}, timeout=10)
    with pytest.raises(RuntimeError, match="no trainer"):  # a failed job is not retried here
        again.result(timeout=1)
