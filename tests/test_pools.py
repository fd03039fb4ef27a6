"""Graded images no student has seen: the digits split into a public pool (every loader a
notebook calls) and a private pool (only grading's test split). No training here."""
from __future__ import annotations

import numpy as np
import pytest

from autograder.trusted import kinds
from autograder import spec as specs
from course import data, motifs, sequences

IMAGE_TASKS = {"gan": "gan"}  # assignment -> its digit-image task (cnn's and rnn's are synthetic)
GRADING_SEEDS = (0, 1, 987)


def _crop(image: np.ndarray) -> bytes:
    """An 8x8 digit or a canvas, cut to the box around its ink: the same digit wherever it sits
    on a canvas gives the same bytes (no two of the 1,797 digits are translates: checked below)."""
    image = np.asarray(image).reshape(image.shape[0], image.shape[1])
    rows, cols = np.nonzero(image)
    box = image[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    return f"{box.shape}".encode() + box.astype("float32").tobytes()


def _key(assignment: str, x: np.ndarray) -> list[bytes]:
    """What identifies each example's underlying digit: its ink box for cnn (canvases), the
    8x8 image for gan."""
    if assignment == "cnn":
        return [_crop(img[..., 0]) for img in x]
    return [img.astype("float32").tobytes() for img in x.reshape(len(x), 8, 8)]


def _digit_keys(assignment: str, indices: np.ndarray) -> set:
    """The same keys for the 8x8 digits at ``indices`` of ``digits_images()``."""
    images = data.digits_images()[0][indices]
    if assignment == "cnn":
        return {_crop(img) for img in images}
    return {img.astype("float32").tobytes() for img in images}


def _all(splits) -> np.ndarray:
    return np.concatenate([splits.x_train, splits.x_val, splits.x_test])


def _released(assignment: str) -> list:
    """Every example the course's loaders hand a notebook for this assignment's data: the
    spec's loader at the public defaults, and at any other public seed a student may try."""
    task = specs.load(assignment).tasks[IMAGE_TASKS[assignment]]
    kwargs = {k: v for k, v in task.data.get("kwargs", {}).items() if k != "seed"}
    return [_all(data.load(task.data["name"], seed=seed, **kwargs)) for seed in (0, 1, 2, 42)]


def test_the_pools_partition_the_digits_by_class():
    images, labels = data.digits_images()
    public, private = data.digit_pools()
    assert len(public) == 1437 and len(private) == 360
    assert not set(public) & set(private) and len(set(public) | set(private)) == len(labels)
    share = np.bincount(labels[private], minlength=10) / np.bincount(labels)
    assert np.all(np.abs(share - data.PRIVATE_SHARE) < 0.01)  # stratified
    data.digit_pools.cache_clear()
    again = data.digit_pools()
    assert np.array_equal(again[0], public) and np.array_equal(again[1], private)
    # what makes the comparisons below sound: no two digits are the same image, nor the same
    # image moved on a canvas; digits that are the same in black and white share a pool
    assert len({_crop(img) for img in images}) == len(images)
    bw = (images > data.POOL_BINARIZE).reshape(len(images), -1)
    _, group = np.unique(bw, axis=0, return_inverse=True)
    pool = np.isin(np.arange(len(images)), private)
    for g in np.unique(group.ravel()):
        assert len(set(pool[group.ravel() == g])) == 1


@pytest.mark.parametrize("assignment", list(IMAGE_TASKS))
def test_the_graded_split_shares_no_image_with_the_released_data(assignment):
    """For every grading seed, the graded test split (what is scored) holds none of the
    examples any released loader returns, and train + validation are the public pool."""
    task = specs.load(assignment).tasks[IMAGE_TASKS[assignment]]
    public, private = data.digit_pools()
    released = set()
    for x in _released(assignment):
        released.update(_key(assignment, x))
    assert released == _digit_keys(assignment, public)  # loaders only show the public pool
    for seed in GRADING_SEEDS:
        graded = kinds.graded_data(task, kinds.task_seed(task, seed))
        assert graded.private_test and graded.sizes() == {"train": 1077, "val": 360,
                                                          "test": 360}
        test = set(_key(assignment, graded.x_test))
        assert test == _digit_keys(assignment, private)
        assert not test & released, f"{assignment}, grading seed {seed}"
        trained_on = set(_key(assignment, np.concatenate([graded.x_train, graded.x_val])))
        assert trained_on == released  # graded training uses only the public pool


@pytest.mark.parametrize("assignment", ["cnn", "gan"])
def test_a_preview_uses_the_notebooks_own_split(assignment):
    import dataclasses

    task = specs.load(assignment).tasks[assignment]
    previewed = dataclasses.replace(task, options={**task.options, kinds.PUBLIC_DATA: True})
    public = kinds.graded_data(previewed, 987)
    notebook = {"cnn": motifs.load_motifs, "gan": data.load_digits_8x8}[assignment]()
    assert not public.private_test and np.array_equal(public.x_test, notebook.x_test)
    assert kinds.held_out(public, previewed) == "your notebook's held-out split (x_test)"


def test_the_graded_draw_changes_with_the_seed_but_not_the_private_pool():
    a = data.load_translated_digits(canvas=16, seed=3, graded=True)
    b = data.load_translated_digits(canvas=16, seed=4, graded=True)
    assert not np.array_equal(a.x_test, b.x_test)  # new positions and order
    assert sorted(_key("cnn", a.x_test)) == sorted(_key("cnn", b.x_test))  # same digits
    assert not np.array_equal(a.y_train, b.y_train)  # train / validation drawn again
    s = sequences.load_sequential_digits(seed=3, graded=True)
    graded = specs.load("rnn").tasks["rnn"]
    assert kinds.held_out(s, graded).startswith("360 held-out images you have not seen")


def test_synthetic_tasks_have_no_private_pool():
    assert data.has_private_pool("translated_digits") and data.has_private_pool("digits_8x8")
    assert data.has_private_pool("sequential_digits")
    assert not data.has_private_pool("first_half") and not data.has_private_pool("nonesuch")
    assert not data.has_private_pool("switch_memory")
    assert not data.has_private_pool("address_lookup") and not data.has_private_pool("motifs")
    assert not kinds.graded_data(specs.load("cnn").tasks["cnn"], 5).private_test
    assert not kinds.graded_data(specs.load("rnn").tasks["rnn"], 5).private_test
    task = specs.load("transformer").tasks["transformer"]
    assert not kinds.graded_data(task, 5).private_test
