"""A frozen digit evaluator that scores generated 8x8 digits without downloaded weights.

A small classifier (scikit-learn ``MLPClassifier((128, 64))``, ``random_state=0``) is trained on
the 1,437 digits of the public pool (``course.data.digit_pools``; it never sees the private
digits that grading compares samples with, and its ``test_accuracy`` is measured on them) the
first time it is needed, then kept for the life of the process. It is deterministic: every
process gets the same weights. Its class probabilities and its 64-unit penultimate layer give
four scores:

- ``inception_score``: ``exp(E_x KL(p(y|x) || p(y)))``, 1 (one class, or no confident class) up
  to 10 (confident *and* evenly spread over the ten digits);
- ``classes``: how many digits the evaluator sees in at least 2 % of the samples;
- ``frechet_distance``: the Fréchet distance between Gaussians fitted to the evaluator's
  penultimate features of the samples and of ``real`` images (lower is better);
- ``memorisation``: the share of samples within L2 distance 0.25 (pixels in [0, 1]) of a
  training image: copies, not new digits (the closest two real digits are 0.33 apart).
"""
from __future__ import annotations

import threading
import warnings
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

CLASS_SHARE = 0.02  # a class "is there" when at least this share of samples falls in it
MEMO_RADIUS = 0.25  # L2 distance (64 pixels in [0, 1]) that counts as a copy
HIDDEN = (128, 64)
_LOCK = threading.Lock()


@dataclass(frozen=True)
class Evaluator:
    """The fitted classifier's weights, applied with NumPy (float64)."""

    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]
    test_accuracy: float

    @staticmethod
    def _flat(images) -> np.ndarray:
        x = np.asarray(images, dtype="float64")
        x = x.reshape(len(x), -1)
        if x.shape[1] != 64:
            raise ValueError(f"the evaluator scores 8x8 images (64 pixels), got {x.shape[1]}")
        return np.nan_to_num(x, nan=0.0, posinf=1.0, neginf=0.0)

    def features(self, images) -> np.ndarray:
        """The penultimate (64-unit ReLU) activations, shape (n, 64)."""
        h = self._flat(images)
        for w, b in zip(self.weights[:-1], self.biases[:-1]):
            h = np.maximum(h @ w + b, 0.0)
        return h

    def probabilities(self, images) -> np.ndarray:
        """Class probabilities, shape (n, 10)."""
        logits = self.features(images) @ self.weights[-1] + self.biases[-1]
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(axis=1, keepdims=True)

    def predict(self, images) -> np.ndarray:
        """The digit the evaluator sees in each image, shape (n,)."""
        return self.probabilities(images).argmax(axis=1)


@lru_cache(maxsize=1)
def _fit() -> Evaluator:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    from course import data

    images, labels = data.digits_images()
    public, private = data.digit_pools()
    clf = MLPClassifier(HIDDEN, random_state=0, max_iter=400)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(images[public].reshape(-1, 64), labels[public])
    acc = float((clf.predict(images[private].reshape(-1, 64)) == labels[private]).mean())
    return Evaluator(tuple(np.array(w, dtype="float64") for w in clf.coefs_),
                     tuple(np.array(b, dtype="float64") for b in clf.intercepts_), acc)


def evaluator() -> Evaluator:
    """The frozen evaluator, fitted on first use (about a second) and cached in-process."""
    with _LOCK:
        return _fit()


def inception_score(probs: np.ndarray) -> float:
    """``exp(mean KL(p(y|x) || p(y)))`` for rows of class probabilities."""
    eps = 1e-12
    marginal = probs.mean(axis=0, keepdims=True)
    kl = (probs * (np.log(probs + eps) - np.log(marginal + eps))).sum(axis=1)
    return float(np.exp(kl.mean()))


def _sqrt_psd(matrix: np.ndarray) -> np.ndarray:
    vals, vecs = np.linalg.eigh((matrix + matrix.T) / 2)
    return (vecs * np.sqrt(np.clip(vals, 0.0, None))) @ vecs.T


def frechet_distance(feats_a: np.ndarray, feats_b: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (rows are samples)."""
    mu_a, mu_b = feats_a.mean(axis=0), feats_b.mean(axis=0)
    cov_a = np.cov(feats_a, rowvar=False)
    cov_b = np.cov(feats_b, rowvar=False)
    root_a = _sqrt_psd(cov_a)
    cross = np.linalg.eigvalsh(root_a @ cov_b @ root_a)
    trace_sqrt = np.sqrt(np.clip(cross, 0.0, None)).sum()
    value = ((mu_a - mu_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2.0 * trace_sqrt
    return float(max(value, 0.0))


def memorisation(samples, train, radius: float = MEMO_RADIUS) -> float:
    """Share of samples within L2 ``radius`` of some training image."""
    s = Evaluator._flat(samples)
    t = Evaluator._flat(train)
    if not len(s):
        return 0.0
    d2 = (s ** 2).sum(1)[:, None] + (t ** 2).sum(1)[None, :] - 2.0 * s @ t.T
    nearest = np.sqrt(np.clip(d2.min(axis=1), 0.0, None))
    return float((nearest <= radius).mean())


def scores(samples, *, real, train) -> dict[str, float]:
    """The four scores of generated ``samples`` (n, 8, 8[, 1]) in [0, 1], as plain floats.

    ``real``: held-out real digits for the Fréchet distance (graded: the private pool);
    ``train``: the images the GAN was trained on, for memorisation.
    """
    ev = evaluator()
    samples = np.clip(Evaluator._flat(samples), 0.0, 1.0)
    if len(samples) < 2:
        raise ValueError(f"need at least 2 samples to score, got {len(samples)}")
    feats = ev.features(samples)
    probs = ev.probabilities(samples)
    counts = np.bincount(probs.argmax(axis=1), minlength=probs.shape[1])
    return {
        "inception_score": inception_score(probs),
        "classes": float((counts >= CLASS_SHARE * len(samples)).sum()),
        "frechet_distance": frechet_distance(feats, ev.features(real)),
        "memorisation": memorisation(samples, train),
    }
