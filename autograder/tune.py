"""``course tune``: keras-tuner over an assignment's reference builder, alone or distributed.

The search space lives beside the reference builder (``search_space(hp)`` in
``solutions/<id>.py``); the data is the assignment's public split (the one students see); the
objective is validation accuracy. Results go to ``<out>/<assignment>/``: keras-tuner's own trial
folders (so an interrupted search resumes), ``trials.md`` (every trial, best first) and
``best_hyperparameters.json``.

Distributed mode is keras-tuner's own: one chief holds the oracle and hands out trials over gRPC;
each worker trains trials. The roles are set through keras-tuner's environment variables
(``KERASTUNER_ORACLE_IP``, ``KERASTUNER_ORACLE_PORT``, ``KERASTUNER_TUNER_ID``), which
``--chief`` / ``--worker`` fill in. keras-tuner's workers wait forever on a chief that died, so
every distributed process here has an outer time limit, and a worker also exits when the chief
stops answering on its port.
"""
from __future__ import annotations

import importlib
import json
import os
import socket
import sys
import threading
import time
from pathlib import Path

from . import spec as specs

ROLE_ENV = ("KERASTUNER_ORACLE_IP", "KERASTUNER_ORACLE_PORT", "KERASTUNER_TUNER_ID")
CHIEF_GONE_EXIT = 4


class TuneError(ValueError):
    """The assignment cannot be tuned as asked (expected / received / how to fix)."""


def classifier_task(spec: specs.Spec, name: str | None = None):
    tasks = {n: t for n, t in spec.tasks.items() if t.kind == "classifier"}
    if name is not None:
        if name not in tasks:
            raise TuneError(f"{spec.assignment} has no classifier task {name!r}: expected one of "
                            f"{', '.join(tasks) or '(none)'}")
        return tasks[name]
    if not tasks:
        raise TuneError(f"{spec.assignment} has no classifier task to tune (its tasks are "
                        f"{', '.join(f'{n} ({t.kind})' for n, t in spec.tasks.items())}); "
                        "tuning needs a model trained by fit and scored by accuracy")
    return next(iter(tasks.values()))


def builder_and_space(spec: specs.Spec, task):
    from . import content

    try:
        content.import_solutions()
        module = importlib.import_module(f"solutions.{spec.assignment}")
    except (ImportError, content.ContentMissing) as err:
        raise TuneError(f"no reference module solutions/{spec.assignment}.py ({err}); tuning "
                        "runs from the course content (a checkout)") from None
    if not hasattr(module, "search_space"):
        raise TuneError(f"solutions/{spec.assignment}.py defines no search_space(hp): add one "
                        "beside the builder that returns the builder's keyword arguments")
    build = getattr(module, task.function)
    args = [tuple(a) if isinstance(a, list) else a
            for a in spec.functions.get(task.function, {}).get("args", [])]
    return build, module.search_space, args


def set_role(role: str | None, oracle: str, worker: str | None) -> None:
    """Fill keras-tuner's distributed environment variables for ``role``."""
    if role is None:
        return
    host, _, port = oracle.rpartition(":")
    if not host or not port.isdigit():
        raise TuneError(f"--oracle should be HOST:PORT, received {oracle!r}")
    os.environ["KERASTUNER_ORACLE_IP"] = host
    os.environ["KERASTUNER_ORACLE_PORT"] = port
    os.environ["KERASTUNER_TUNER_ID"] = "chief" if role == "chief" else f"tuner{worker or 0}"


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=3):
            return True
    except OSError:
        return False


def _exit(message: str) -> None:
    """Say why, if anyone still listens (a closed pipe must not keep the process alive), and
    leave at once, whatever the other threads (gRPC, training) are doing."""
    try:
        print(message, file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass
    os._exit(CHIEF_GONE_EXIT)


def watchdog(timeout: float | None, chief: tuple[str, int] | None, *, grace: float = 60,
             misses: int = 3, every: float = 5.0) -> threading.Thread:
    """Exit the process when ``timeout`` passes, or (for a worker) when the chief has stopped
    answering ``misses`` times in a row after ``grace`` seconds to come up."""
    start = time.monotonic()

    def watch():
        seen, missed = False, 0
        while True:
            time.sleep(every)
            elapsed = time.monotonic() - start
            if timeout and elapsed > timeout:
                _exit(f"course tune: stopped after the {timeout:g} s limit (--timeout)")
            if chief is None:
                continue
            if _reachable(*chief):
                seen, missed = True, 0
                continue
            missed += 1
            if (seen or elapsed > grace) and missed >= misses:
                _exit(f"course tune: the chief at {chief[0]}:{chief[1]} stopped answering; "
                      "this worker exits (its finished trials are saved by the chief)")

    thread = threading.Thread(target=watch, name="tune-watchdog", daemon=True)
    thread.start()
    return thread


def run(assignment: str, *, tuner: str = "random", trials: int = 8, epochs: int | None = None,
        max_seconds: float | None = None, out: Path = Path("build") / "tune",
        task: str | None = None, role: str | None = None, oracle: str = "127.0.0.1:8000",
        worker: str | None = None, timeout: float | None = None, progress: bool = True) -> dict:
    """Run or resume a search; returns {"dir", "table", "best", "seconds"} (table and best only
    where this process holds the oracle: alone, or as the chief)."""
    from course import data, runtime, training, tuning

    spec = specs.load(assignment)
    chosen = classifier_task(spec, task)
    build, space, args = builder_and_space(spec, chosen)
    set_role(role, oracle, worker)
    if role is not None or timeout:
        host, _, port = oracle.rpartition(":")
        watchdog(timeout, (host, int(port)) if role == "worker" else None)
    budget = chosen.budget
    epochs = epochs or int(budget["epochs"])  # a classifier's budget has it (checked at load)
    runtime.seed_everything(0)
    directory = Path(out) / assignment
    model_fn = tuning.hypermodel(build, space, *args)
    t = tuning.make_tuner(tuner, model_fn, directory=directory, project_name=tuner,
                          max_trials=trials, max_epochs=epochs,
                          progress=progress and role != "chief")
    splits = None if role == "chief" else data.load(chosen.data["name"],
                                                    **chosen.data.get("kwargs", {}))
    if role == "chief":
        tuning.stop_after(t, max_seconds)
        start = time.perf_counter()
        t.search(epochs=epochs)  # serves the oracle until every trial is done
        seconds = time.perf_counter() - start
    else:
        seconds = tuning.search(t, splits, epochs=epochs,
                                batch_size=int(budget.get("batch_size", training.BATCH_SIZE)),
                                max_seconds=max_seconds)
    result = {"dir": directory, "seconds": round(seconds, 1), "table": None, "best": None}
    if role == "worker":
        return result
    best = t.oracle.get_best_trials(1)
    result["table"] = tuning.trials_table(t)
    result["best"] = {"hyperparameters": dict(best[0].hyperparameters.values),
                      "score": float(best[0].score), "objective": t.oracle.objective.name,
                      "trial": best[0].trial_id} if best else None
    (directory / "best_hyperparameters.json").write_text(json.dumps(result["best"], indent=2))
    (directory / "trials.md").write_text(
        f"# Tuning `{assignment}` ({tuner})\n\nCommand: `course tune {assignment} --tuner {tuner} "
        f"--trials {trials} --epochs {epochs}`  \n{len(tuning.trials(t))} trials, up to {epochs} "
        f"epochs each, on the public split; objective: validation accuracy; {seconds:.0f} s "
        f"in this run.\n\n{result['table']}\n")
    return result
