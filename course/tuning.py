"""Hyperparameter search with keras-tuner, around a plain builder function.

A builder stays the single source of truth: ``build(*args, **kwargs)`` returns a compiled model.
A *search space* is a few lines that map keras-tuner's ``hp`` to the builder's keyword arguments::

    def space(hp):
        return {"units": hp.Int("units", 16, 128, step=16),
                "learning_rate": hp.Float("learning_rate", 1e-4, 1e-2, sampling="log")}

    tuner = tuning.make_tuner("random", tuning.hypermodel(build, space, input_shape, classes),
                              directory="runs", project_name="demo", max_trials=8)
    tuning.search(tuner, splits, epochs=10, batch_size=64)
    print(tuning.trials_table(tuner))

Searches resume: trials already in ``directory/project_name`` are kept (``overwrite=False``).
"""
from __future__ import annotations

import threading
import time

TUNERS = ("random", "hyperband", "bayesian")


def hypermodel(build, space, *args):
    """``hp -> build(*args, **space(hp))``: what keras-tuner calls to make each trial's model."""
    def build_model(hp):
        return build(*args, **space(hp))

    build_model.__name__ = f"tuned_{getattr(build, '__name__', 'model')}"
    return build_model


def _with_progress(cls):
    """``cls`` with a tqdm bar over finished trials."""
    class Progress(cls):
        bar = None

        def on_search_begin(self):
            super().on_search_begin()
            from tqdm.auto import tqdm

            # a distributed worker's oracle is a client that knows neither count
            total = getattr(self.oracle, "max_trials", None)
            trials = getattr(self.oracle, "trials", {})
            done = sum(t.status == "COMPLETED" for t in trials.values())
            self.bar = tqdm(total=total, initial=done, desc="tuning", unit="trial")

        def on_trial_end(self, trial):
            super().on_trial_end(trial)
            if self.bar is not None:
                best = self.oracle.get_best_trials(1)
                if best and best[0].score is not None:
                    self.bar.set_postfix_str(f"best {best[0].score:.4f}")
                self.bar.update(1)

        def on_search_end(self):
            super().on_search_end()
            if self.bar is not None:
                self.bar.close()

    Progress.__name__ = cls.__name__
    return Progress


def make_tuner(kind: str, build_model, *, directory, project_name: str, max_trials: int = 10,
               max_epochs: int = 10, objective: str = "val_accuracy", seed: int = 0,
               progress: bool = True):
    """A RandomSearch, Hyperband or BayesianOptimization tuner that resumes from ``directory``.

    ``max_trials`` bounds random and Bayesian search; Hyperband is bounded by ``max_epochs``
    (its largest training budget) instead.
    """
    import keras_tuner as kt

    if kind not in TUNERS:
        raise ValueError(f"unknown tuner {kind!r}: expected one of {', '.join(TUNERS)}")
    cls = {"random": kt.RandomSearch, "hyperband": kt.Hyperband,
           "bayesian": kt.BayesianOptimization}[kind]
    cls = _with_progress(cls) if progress else cls
    common = dict(objective=kt.Objective(objective, direction="max"), seed=seed,
                  directory=str(directory), project_name=project_name, overwrite=False)
    if kind == "hyperband":
        return cls(build_model, max_epochs=max_epochs, factor=3, **common)
    return cls(build_model, max_trials=max_trials, **common)


def stop_after(tuner, seconds: float | None) -> threading.Timer | None:
    """No new trial starts after ``seconds`` (the running one finishes)."""
    if not seconds:
        return None

    def close():
        tuner.oracle.max_trials = len(tuner.oracle.trials)

    timer = threading.Timer(seconds, close)
    timer.daemon = True
    timer.start()
    return timer


def search(tuner, splits, *, epochs: int, batch_size: int, max_seconds: float | None = None):
    """Run (or resume) the search on ``splits``' training and validation data."""
    timer = stop_after(tuner, max_seconds)
    start = time.perf_counter()
    try:
        tuner.search(splits.x_train, splits.y_train, epochs=epochs, batch_size=batch_size,
                     validation_data=(splits.x_val, splits.y_val), verbose=0)
    finally:
        if timer is not None:
            timer.cancel()
    return time.perf_counter() - start


def trials(tuner) -> list[dict]:
    """Every trial: id, status, score and hyperparameter values, in trial order."""
    rows = []
    for t in sorted(tuner.oracle.trials.values(), key=lambda t: t.trial_id):
        rows.append({"trial": t.trial_id, "status": t.status, "score": t.score,
                     "hyperparameters": dict(t.hyperparameters.values)})
    return rows


def trials_table(tuner) -> str:
    """The trials as a Markdown table, best score first."""
    rows = trials(tuner)
    names = sorted({k for r in rows for k in r["hyperparameters"] if not k.startswith("tuner/")})
    ranked = sorted(rows, key=lambda r: (r["score"] is None, -(r["score"] or 0.0)))
    lines = ["| trial | status | " + tuner.oracle.objective.name + " | " + " | ".join(names)
             + " |", "|---|---|---|" + "---|" * len(names)]
    for r in ranked:
        score = "–" if r["score"] is None else f"{r['score']:.4f}"
        values = [_fmt(r["hyperparameters"].get(n)) for n in names]
        lines.append(f"| {r['trial']} | {r['status']} | {score} | " + " | ".join(values) + " |")
    return "\n".join(lines)


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    return "–" if value is None else str(value)
