"""Offline sequence data sets for the recurrent-network and transformer assignments.

All are built from seeded random draws (and scikit-learn's digits), so they need no network and
are identical on every machine for the same arguments. The synthetic tasks (``first_half``,
``switch_memory``, ``where_is``, ``address_lookup``, ``latest_value``) draw fresh examples for
every seed: the grader's secret seed gives sequences no notebook has seen.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from .data import Splits, _take, digit_split, digits_images, drawn


def digits_as_sequences(images: np.ndarray, step_pixels: int = 8,
                        read: str = "rows") -> np.ndarray:
    """Read (N, 8, 8) images in raster order, ``step_pixels`` pixels per time step.

    ``step_pixels=8`` gives one image row per step, (N, 8, 8); ``4`` gives half rows, (N, 16, 4).
    ``read="columns"`` reads the transposed image (column by column); ``read="patches"`` reads
    2x2 patches left to right, top to bottom (``step_pixels`` must then be 4).
    """
    n, h, w = images.shape
    if read == "columns":
        images = images.transpose(0, 2, 1)
    elif read == "patches":
        if step_pixels != 4:
            raise ValueError("read='patches' reads 2x2 patches: step_pixels must be 4, "
                             f"got {step_pixels}")
        return (images.reshape(n, h // 2, 2, w // 2, 2).transpose(0, 1, 3, 2, 4)
                .reshape(n, (h // 2) * (w // 2), 4).astype("float32"))
    elif read != "rows":
        raise ValueError(f"read must be 'rows', 'columns' or 'patches', got {read!r}")
    if (h * w) % step_pixels:
        raise ValueError(f"step_pixels must divide {h * w}, got {step_pixels}")
    return images.reshape(n, (h * w) // step_pixels, step_pixels).astype("float32")


@lru_cache(maxsize=8)
def load_sequential_digits(step_pixels: int = 4, read: str = "patches",
                           binarize: float | None = 0.5, seed: int = 0, val: float = 0.2,
                           test: float = 0.2, graded: bool = False) -> Splits:
    """scikit-learn's 8x8 digits read as a sequence, a few pixels per time step.

    By default each digit is made black and white (pixels above ``binarize`` become 1, the others
    0; ``None`` keeps the grey levels) and read as 16 steps of one 2x2 patch (4 pixels), left to
    right and top to bottom: x is float32 (N, 16, 4), y the digit 0-9. A black-and-white 2x2
    patch is one of only 16 patterns, so *which* patches occur says little about the digit (a
    "6" and a "9" are made of the same pieces); the *order* in which they occur says a lot, and a
    model must remember what it read earlier. The split (of the public pool of digits;
    ``graded=True``: test from the private pool, see :func:`course.data.digit_split`) is
    stratified and fixed by ``seed``.
    """
    images, labels = digits_images()
    if binarize is not None:
        images = (images > binarize).astype("float32")
    parts = digit_split(seed=seed, val=val, test=test, graded=graded)
    return _take(digits_as_sequences(images, step_pixels, read), labels, parts, graded)


def first_half_task(n: int, *, seq_len: int = 16, vocab_size: int = 10, token: int = 1,
                    rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` token sequences and labels: 1 where ``token`` occurs more often in the first half.

    Tokens are uniform over [0, vocab_size); sequences whose halves hold ``token`` equally often
    are drawn again, so both labels are equally likely and every sequence has an answer.
    """
    if seq_len % 2 or seq_len < 2:
        raise ValueError(f"seq_len must be even and at least 2, got {seq_len}")
    half = seq_len // 2
    out = np.empty((0, seq_len), dtype="int32")
    while len(out) < n:
        draw = rng.integers(0, vocab_size, size=(2 * (n - len(out)) + 16, seq_len))
        first = (draw[:, :half] == token).sum(axis=1)
        second = (draw[:, half:] == token).sum(axis=1)
        out = np.concatenate([out, draw[first != second].astype("int32")])
    tokens = out[:n]
    labels = ((tokens[:, :half] == token).sum(1) > (tokens[:, half:] == token).sum(1))
    return tokens, labels.astype("int32")


@lru_cache(maxsize=8)
def load_first_half(seq_len: int = 16, vocab_size: int = 10, token: int = 1, seed: int = 0,
                    n_train: int = 3000, n_val: int = 1000, n_test: int = 2000) -> Splits:
    """"Does token ``token`` occur more often in the first half of the sequence than in the second?"

    x is int32 (N, seq_len) with ids in [0, vocab_size); y is 0/1, balanced. How often the token
    occurs overall says nothing about the answer; only *where* it occurs does, so a bag of tokens
    (or attention without positions) can only guess.
    """
    return drawn(first_half_task, seed, (n_train, n_val, n_test), 2,
                 seq_len=seq_len, vocab_size=vocab_size, token=token)


def switch_memory_task(n: int, *, seq_len: int = 64, values: int = 8, p_write: float = 0.1,
                       p_switch: float = 0.05,
                       rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` one-hot sequences of a tiny machine with a switch, and the value it holds at the end.

    Each step is one symbol of ``2 * values``: *write v* (ids 0..values-1), *switch on*
    (``values``), *switch off* (``values + 1``) or one of ``values - 2`` distractors that change
    nothing. A write is kept only while the switch is on (the last on/off before it was "on"); the
    label is the value last kept. Step 0 switches on and step 1 writes, so every sequence has an
    answer. The answer depends on two memories read in order (the switch, and the value kept
    under it), over up to ``seq_len`` steps: a bag of steps, a dense layer over the flattened
    sequence or a convolution over windows cannot follow it; a gated recurrent cell can.
    """
    if values < 3:
        raise ValueError(f"values must be at least 3 (one distractor at least), got {values}")
    u = rng.uniform(size=(n, seq_len))
    written = rng.integers(0, values, size=(n, seq_len))
    noise = values + 2 + rng.integers(0, values - 2, size=(n, seq_len))
    sym = np.where(u < p_write, written,
                   np.where(u < p_write + p_switch, values,
                            np.where(u < p_write + 2 * p_switch, values + 1, noise)))
    sym[:, 0] = values
    sym[:, 1] = rng.integers(0, values, size=n)
    # the switch at every step: the last on/off at or before it (step 0 is "on")
    is_switch = (sym == values) | (sym == values + 1)
    last_switch = np.maximum.accumulate(np.where(is_switch, np.arange(seq_len), 0), axis=1)
    on = np.take_along_axis(sym, last_switch, axis=1) == values
    kept = (sym < values) & on
    last_kept = seq_len - 1 - np.argmax(kept[:, ::-1], axis=1)
    labels = sym[np.arange(n), last_kept]
    return np.eye(2 * values, dtype="float32")[sym], labels.astype("int32")


@lru_cache(maxsize=8)
def load_switch_memory(seq_len: int = 64, values: int = 8, seed: int = 0, n_train: int = 4000,
                       n_val: int = 1000, n_test: int = 2000) -> Splits:
    """"What value does the machine hold at the end?" (:func:`switch_memory_task`).

    x is float32 (N, seq_len, 2 * values), one-hot; y the value 0..values-1, near uniform.
    """
    return drawn(switch_memory_task, seed, (n_train, n_val, n_test), values,
                 seq_len=seq_len, values=values)


def where_is_task(n: int, *, seq_len: int = 16, vocab_size: int = 32,
                  rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` token sequences: ``seq_len`` distinct tokens (ids 1..vocab_size-1), then a query
    token, one of them; the label is the query's position, 0..seq_len-1.

    The model must match the query against every token by content and read where the match sits:
    one attention layer with positions does both; a bag of tokens knows no positions, a dense
    layer over fixed positions would have to learn every (token, position) pair apart, and a
    recurrent network would have to remember the position of every token it read.
    """
    if not 1 <= seq_len < vocab_size:
        raise ValueError(f"seq_len distinct tokens need vocab_size > seq_len, got "
                         f"seq_len={seq_len}, vocab_size={vocab_size}")
    tokens = 1 + np.argsort(rng.uniform(size=(n, vocab_size - 1)), axis=1)[:, :seq_len]
    where = rng.integers(0, seq_len, size=n)
    query = tokens[np.arange(n), where]
    return (np.concatenate([tokens, query[:, None]], axis=1).astype("int32"),
            where.astype("int32"))


@lru_cache(maxsize=8)
def load_where_is(seq_len: int = 16, vocab_size: int = 32, seed: int = 0, n_train: int = 4000,
                  n_val: int = 1000, n_test: int = 2000) -> Splits:
    """"Where in the sequence is the last token's twin?" (:func:`where_is_task`).

    x is int32 (N, seq_len + 1) with ids in [0, vocab_size) (0 is never drawn: free for padding);
    y the position 0..seq_len-1, uniform.
    """
    return drawn(where_is_task, seed, (n_train, n_val, n_test), seq_len,
                 seq_len=seq_len, vocab_size=vocab_size)


def address_lookup_task(n: int, *, seq_len: int = 16, values: int = 16,
                        rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` token sequences: ``seq_len`` stored values, then a query that names a position;
    the label is the value stored there.

    Ids: 0 is never drawn (free for padding), value v is id ``1 + v`` (v in 0..values-1), and
    "position p?" is id ``1 + values + p``, so ``vocab_size = 1 + values + seq_len``. Attention
    is this lookup: the query (an address) is compared with every key (the positions) and the
    value at the match comes back. A bag of tokens knows no positions; a dense layer over the
    flattened sequence must learn every (address, value) pair apart; a recurrent network reads
    the query last, so it must hold all ``seq_len`` values in its state.
    """
    stored = rng.integers(0, values, size=(n, seq_len))
    where = rng.integers(0, seq_len, size=n)
    x = np.concatenate([1 + stored, (1 + values + where)[:, None]], axis=1)
    return x.astype("int32"), stored[np.arange(n), where].astype("int32")


@lru_cache(maxsize=8)
def load_address_lookup(seq_len: int = 16, values: int = 16, seed: int = 0, n_train: int = 4000,
                        n_val: int = 1000, n_test: int = 2000) -> Splits:
    """"Which value is stored at the position the query names?" (:func:`address_lookup_task`).

    x is int32 (N, seq_len + 1) with ids in [0, 1 + values + seq_len); y the value 0..values-1.
    """
    return drawn(address_lookup_task, seed, (n_train, n_val, n_test), values,
                 seq_len=seq_len, values=values)


def latest_value_task(n: int, *, pairs: int = 12, keys: int = 8, values: int = 8,
                      rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` token sequences: ``pairs`` writes, each one (key, value) pair as one token, then the
    query "key q?" for a key written at least twice; the label is the value of q's *last* write.

    Ids: 0 is never drawn, the pair (k, v) is ``1 + k * values + v``, "key q?" is
    ``1 + keys * values + q``, so ``vocab_size = 1 + keys * values + keys``. Attention reads the
    answer at the query's position: the query is compared with every pair's key and the latest
    match comes back (its position embedding tells which is latest). A bag of tokens sees the
    writes but not their order; a recurrent network must keep a table of ``keys`` entries; a
    dense layer over the flattened sequence must learn every (position, key) comparison apart.
    """
    k = rng.integers(0, keys, size=(n, pairs))
    v = rng.integers(0, values, size=(n, pairs))
    x = np.zeros((n, pairs + 1), dtype="int32")
    x[:, :pairs] = 1 + k * values + v
    y = np.zeros(n, dtype="int32")
    for i in range(n):
        twice = np.flatnonzero(np.bincount(k[i], minlength=keys) >= 2)
        q = rng.choice(twice) if len(twice) else k[i, -1]
        x[i, pairs] = 1 + keys * values + q
        y[i] = v[i, np.flatnonzero(k[i] == q)[-1]]
    return x, y


@lru_cache(maxsize=8)
def load_latest_value(pairs: int = 12, keys: int = 8, values: int = 8, seed: int = 0,
                      n_train: int = 4000, n_val: int = 1000, n_test: int = 2000) -> Splits:
    """"What did the last write to key q store?" (:func:`latest_value_task`).

    x is int32 (N, pairs + 1) with ids in [0, 1 + keys * values + keys); y the value.
    """
    return drawn(latest_value_task, seed, (n_train, n_val, n_test), values, pairs=pairs,
                 keys=keys, values=values)


LOADERS = {
    "sequential_digits": load_sequential_digits,
    "first_half": load_first_half,
    "switch_memory": load_switch_memory,
    "where_is": load_where_is,
    "address_lookup": load_address_lookup,
    "latest_value": load_latest_value,
}
