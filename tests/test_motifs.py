"""The `cnn` task's images: small patterns stamped anywhere, fixed by a seed, standardised."""
import numpy as np
import pytest

from course import data, motifs


def _stamped(image: np.ndarray, shape: np.ndarray) -> list[tuple[int, int]]:
    """Top-left corners where every ink pixel of ``shape`` is inked in ``image``."""
    size = shape.shape[0]
    ink = shape > 0
    return [(r, c) for r in range(image.shape[0] - size + 1)
            for c in range(image.shape[1] - size + 1)
            if (image[r:r + size, c:c + size][ink] >= 1.0).all()]


def test_every_image_holds_its_class_motif_at_varied_places():
    x, y = motifs.motifs_task(200, copies=3, distractors=4, noise=0.1,
                              rng=np.random.default_rng(0))
    assert x.shape == (200, 16, 16, 1) and x.dtype == np.float32 and set(y) == {0, 1, 2, 3}
    corners = []
    for image, label in zip(x[..., 0], y):
        found = _stamped(image, motifs.motif(motifs.CLASSES[label]))
        assert found, "an image without its class motif"
        corners.extend(found)
    assert len(set(corners)) > 100  # the motif is not tied to a place


def test_splits_are_fixed_by_the_seed_and_standardised():
    a = data.load("motifs", canvas=16, copies=3, seed=0)
    assert a.sizes() == {"train": 1200, "val": 300, "test": 400} and a.num_classes == 4
    assert abs(float(a.x_train.mean())) < 1e-4 and abs(float(a.x_train.std()) - 1) < 1e-4
    motifs.load_motifs.cache_clear()
    b = data.load("motifs", canvas=16, copies=3, seed=0)
    assert np.array_equal(a.x_test, b.x_test) and np.array_equal(a.y_train, b.y_train)
    c = data.load("motifs", canvas=16, copies=3, seed=1)
    assert not np.array_equal(a.x_train, c.x_train)  # the grader's seed draws other images


def test_motifs_are_distinct_and_bad_sizes_are_explained():
    shapes = {motifs.motif(m).tobytes() for m in motifs.CLASSES + motifs.DISTRACTORS}
    assert len(shapes) == len(motifs.CLASSES) + len(motifs.DISTRACTORS)
    with pytest.raises(ValueError, match="canvas >= 3"):
        motifs.motifs_task(1, canvas=2, rng=np.random.default_rng(0))
