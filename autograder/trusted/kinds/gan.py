"""GAN tasks: two exported configs (generator, discriminator), rebuilt and trained together by
the course's own GAN trainer, then scored by the course's frozen digit evaluator: an
Inception-Score-like quality, classes covered, a Fréchet distance in evaluator features and a
memorisation share. Builders return uncompiled models: the trainer compiles them.
"""
from __future__ import annotations

import traceback

import numpy as np

from . import classifier, graded_data, held_out, model_calls, public
from .result import TaskResult

SAMPLES_SHOWN = 64  # images sent back for the feedback grid


def calls(spec, task, seed: int) -> list[dict]:
    return model_calls(spec, task)


def _shape_problem(generator, discriminator, latent_dim: int, image_shape: tuple) -> str | None:
    expected_g, expected_d = (None, *image_shape), (None, 1)
    if tuple(generator.output_shape) != expected_g:
        return (f"the generator outputs {tuple(generator.output_shape)}, expected {expected_g} "
                f"(one image per noise vector of length {latent_dim})")
    if tuple(discriminator.output_shape) != expected_d:
        return (f"the discriminator outputs {tuple(discriminator.output_shape)}, expected "
                f"{expected_d}: one logit per image")
    return None


def run(task, exports: dict, seed: int, *, progress: bool = False) -> TaskResult:
    """Rebuild both models, train them as a pair, sample, and score the samples."""
    from course import evaluator, gan, runtime

    opts = task.options
    latent_dim, image_shape = int(opts["latent_dim"]), tuple(opts["image_shape"])
    timings: dict[str, float] = {}
    result = TaskResult(task.name, "gan", device=str(runtime.detect_device()), timings=timings)
    splits = graded_data(task, seed)
    # trained on train + validation (graded: the whole public pool, which memorisation compares
    # with); the Fréchet distance compares with x_test (graded: the private pool)
    images = np.concatenate([splits.x_train, splits.x_val])
    runtime.seed_everything(seed)
    g_name, d_name = task.functions
    generator, result.models[g_name] = classifier.rebuilt(
        exports[g_name], task, (latent_dim,), timings, "rebuild_generator")
    discriminator, result.models[d_name] = classifier.rebuilt(
        exports[d_name], task, image_shape, timings, "rebuild_discriminator")
    for name, model in ((g_name, generator), (d_name, discriminator)):
        if model is None:
            result.error = f"{name}: {result.models[name].error}"
            return result
    problem = _shape_problem(generator, discriminator, latent_dim, image_shape)
    if problem:
        result.error = f"cannot train the pair: {problem}"
        return result
    budget = task.budget
    try:
        trained = gan.train_gan(generator, discriminator, images, latent_dim=latent_dim,
                                steps=int(budget["steps"]),
                                batch_size=int(budget.get("batch_size", gan.BATCH_SIZE)),
                                max_seconds=budget.get("max_seconds"), progress=progress,
                                seed=seed)
        timings["fit"] = round(trained.seconds, 4)
        samples = gan.sample(generator, int(opts.get("samples", 1000)), latent_dim, seed)
        scores = evaluator.scores(samples, real=splits.x_test, train=images)
    except Exception as err:  # training blew up: the submission's failure, not the grader's
        result.error = f"training failed: {type(err).__name__}: {str(err)[:300]}"
        result.extra["traceback"] = traceback.format_exc(limit=3)
        return result
    result.ok = True
    result.metrics = {k: float(v) for k, v in scores.items()}
    stopped = " (stopped by the time limit)" if trained.stopped_by_time else ""
    if splits.private_test:
        result.summary = (f"after {trained.steps_run} training steps on the {len(images)} "
                          f"digits of the public pool{stopped}")
        result.summaries["frechet_distance"] = (
            f"after {trained.steps_run} training steps{stopped}, against "
            f"{held_out(splits, task)}")
    else:
        drawn = "your notebook's digits" if public(task) else "freshly drawn digits"
        result.summary = f"after {trained.steps_run} training steps on {drawn}{stopped}"
    result.history = trained.history
    result.extra["samples"] = samples[:SAMPLES_SHOWN].round(3).tolist()
    return result


def figures(task, result: TaskResult, *, threshold: float | None = None,
            metric: str = "") -> dict:
    """A grid of generated samples and the two networks' losses."""
    from course import plots

    out = {}
    if result.extra.get("samples"):
        out["Samples from your generator"] = plots.to_png(plots.image_grid(
            np.asarray(result.extra["samples"]), ncols=16,
            title="Samples from your generator (trusted training)"))
    if result.history:
        out["Losses"] = plots.to_png(plots.loss_curves(result.history,
                                                       title="GAN losses (trusted training)"))
    return out
