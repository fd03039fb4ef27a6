# %% [markdown]
# # Assignment: attention and the transformer
#
# In 2017 Ashish Vaswani and colleagues at Google published **"Attention is all you need"**.
# Translation systems of the time read a sentence with a recurrent network, one word after
# another. The transformer dropped recurrence entirely: every position looks at every other
# position directly, in one step, through **attention**. Nothing has to survive a long chain of
# hidden states, and all positions are computed in parallel, which suits GPUs. Almost every large
# language model today is a stack of transformer blocks. (Lecture 5,
# `course/lectures/05_transformer.py`, prepares this assignment.)
#
# **Attention is a soft lookup.** A Python dictionary returns the value whose key equals the
# query exactly. Attention compares a *query* vector with every *key* vector, turns the
# similarities into weights that are positive and sum to 1 (a softmax), and returns the
# weighted average of the *values*:
#
# $$\mathrm{Attention}(Q, K, V) = \mathrm{softmax}\!\left(\frac{Q K^\top}{\sqrt{d}}\right) V$$
#
# - $Q$ is (Tq, d): one query per position that asks; $K$ is (Tk, d) and $V$ is (Tk, dv): one
#   key and one value per position that answers. Row $i$ of the weight matrix says how much
#   query $i$ takes from each value.
# - **Why divide by $\sqrt{d}$?** If the $d$ components of a query and a key are independent
#   with mean 0 and variance 1, their dot product is a sum of $d$ such products: its variance is
#   $d$. With $d = 64$ the scores are typically $\pm 8$, the softmax puts almost all the weight
#   on one key, and its gradient all but vanishes. Dividing by $\sqrt{d}$ brings the variance
#   back to 1, whatever the width.
# - **Masks** say which keys a query may look at. A *causal* mask lets position $i$ see only
#   positions $\le i$ (a language model must not peek at the next word); a *padding* mask hides
#   the filler at the end of short sequences. Masked scores are set to a very negative number
#   before the softmax, so their weight becomes 0.
# - **Positions.** Attention itself ignores order: shuffle the inputs and the outputs are
#   shuffled the same way (it is *permutation-equivariant*); average them and the result does
#   not change at all. To a transformer without position information a sentence is a bag of
#   words. So each token's vector gets a *position embedding* added before the first block.
# - **A transformer block** wraps attention in a residual connection and layer normalization,
#   `x = LayerNorm(x + Attention(x))`, then does the same with a small feed-forward network
#   applied to each position separately, `x = LayerNorm(x + FeedForward(x))`. The residual path
#   lets information and gradients pass straight through; the normalization keeps each
#   position's vector at a steady scale.
#
# Where it fails: attention compares every position with every other one, so its cost grows
# with the *square* of the sequence length, and with little data a transformer has fewer
# built-in assumptions to lean on than a CNN or an RNN.

# %% [markdown]
# ## Setup
# Run this cell first. It picks the Keras backend (TensorFlow unless `KERAS_BACKEND` says
# otherwise), says which device you are on, and loads the data.

# %% [setup] id=setup
import numpy as np
import keras
from keras import layers

from course import plots, runtime, sequences, training
from course.layers import SinePositionEncoding, TokenAndPositionEmbedding

print("Keras", keras.__version__, "on", runtime.detect_device())
tokens = sequences.load_latest_value(pairs=12, keys=8, values=8, seed=0)
print("examples:", tokens.sizes(), "sequence shape:", tokens.input_shape)


def spell(row):
    """A sequence in words: pair tokens as key=value, the query as key?"""
    words = [f"{'ABCDEFGH'[(t - 1) // 8]}={(t - 1) % 8}" for t in row[:-1]]
    return " ".join(words) + f"  {'ABCDEFGH'[row[-1] - 65]}?"


for row, label in zip(tokens.x_train[:4], tokens.y_train[:4]):
    print(spell(row), "->", label)

# %% [markdown]
# ## Part 1: attention by hand (4 points)
#
# Write `scaled_dot_product_attention(query, key, value, mask=None)` in **NumPy**:
# - `query` has shape (..., Tq, d), `key` (..., Tk, d), `value` (..., Tk, dv); the leading
#   "..." are any batch dimensions (none, one or several), the same for all three;
# - compute the scores `query @ key^T / sqrt(d)`, shape (..., Tq, Tk) (`np.swapaxes(key, -1, -2)`
#   transposes the last two axes, whatever comes before them);
# - if `mask` is given (bool, or 0/1 numbers; its shape broadcasts against (..., Tq, Tk)), keep
#   the scores where the mask is true/1 and set the others to a very negative number (e.g.
#   `-1e9`, or `-np.inf`) — `np.where` does this;
# - softmax over the **keys** (the last axis), so each row of weights sums to 1. Subtract each
#   row's maximum before `np.exp`: the result is the same and nothing overflows;
# - return `weights @ value`, shape (..., Tq, dv).
#
# The grader calls your function on inputs it draws itself (with and without masks, several
# shapes) and compares the results with its own to within 0.00001.

# %% [solution] id=scaled_dot_product_attention from=solutions.transformer:scaled_dot_product_attention
def scaled_dot_product_attention(query, key, value, mask=None):
    """Attention in NumPy: query (..., Tq, d), key (..., Tk, d), value (..., Tk, dv).

    mask (optional) broadcasts to (..., Tq, Tk): true/1 where a query may attend to a key.
    Returns an array of shape (..., Tq, dv). Graded against the grader's own on inputs it
    draws (within 1e-5).
    """

# %% [markdown]
# ### Visible checks for Part 1
# Each is worth 2 points: the grader runs its own, harder version of the same check.

# %% [test] id=test_attention_unmasked
q = np.array([[1.0, 0.0], [0.0, 2.0]])
k = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
v = np.eye(3)  # with identity values, the output IS the weight matrix
w = np.asarray(scaled_dot_product_attention(q, k, v))
scores = q @ k.T / np.sqrt(2)
expected = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
assert w.shape == (2, 3), f"expected shape (2, 3) (Tq, dv), got {w.shape}"
assert np.allclose(w.sum(axis=1), 1.0), "each row of attention weights must sum to 1"
assert np.allclose(w, expected, atol=1e-6), (
    f"expected weights\n{expected.round(4)}\ngot\n{w.round(4)}\n(did you divide by sqrt(d)?)")
rng = np.random.default_rng(0)
out = np.asarray(scaled_dot_product_attention(rng.normal(size=(2, 3, 5, 8)),
                                              rng.normal(size=(2, 3, 7, 8)),
                                              rng.normal(size=(2, 3, 7, 4))))
assert out.shape == (2, 3, 5, 4), f"expected shape (2, 3, 5, 4), got {out.shape}"
print("unmasked attention: OK")
### BEGIN HIDDEN TESTS
from autograder.inline import grade_check
grade_check("transformer", "test_attention_unmasked", globals())
### END HIDDEN TESTS

# %% [test] id=test_attention_masked
causal = np.tril(np.ones((4, 4), dtype=bool))  # query i may look at keys 0..i
rng = np.random.default_rng(1)
q, k, v = rng.normal(size=(4, 8)), rng.normal(size=(4, 8)), rng.normal(size=(4, 3))
out = np.asarray(scaled_dot_product_attention(q, k, v, mask=causal))
assert out.shape == (4, 3), f"expected shape (4, 3), got {out.shape}"
assert np.allclose(out[0], v[0]), (
    "with a causal mask the first query may only look at the first key, so its output must "
    "equal value[0]: is the mask applied, and the right way round (true = may attend)?")
w = np.asarray(scaled_dot_product_attention(q, k, np.eye(4), mask=causal.astype(int)))
assert np.allclose(np.triu(w, 1), 0.0), "masked (future) keys must get weight 0"
assert np.allclose(w.sum(axis=1), 1.0), "each row of attention weights must sum to 1"
print("masked attention: OK")
### BEGIN HIDDEN TESTS
from autograder.inline import grade_check
grade_check("transformer", "test_attention_masked", globals())
### END HIDDEN TESTS

# %% [markdown]
# ### Try it: look at the weights, and at why we scale
# With `value = np.eye(T)` your function returns the weight matrix itself. The first picture
# shows causal self-attention on random vectors; the second shows how the spread of the raw dot
# products grows with the width d, and how dividing by sqrt(d) fixes it.

# %% [code] tags=skip-grading
import matplotlib.pyplot as plt

rng = np.random.default_rng(0)
x = rng.normal(size=(8, 16))
weights = np.asarray(scaled_dot_product_attention(x, x, np.eye(8), mask=np.tril(np.ones((8, 8)))))
fig, (ax_w, ax_d) = plt.subplots(1, 2, figsize=(10, 3.8))
ax_w.imshow(weights, cmap="viridis", vmin=0)
ax_w.set(xlabel="key", ylabel="query", title="Causal self-attention weights")
widths = [4, 16, 64, 256]
raw = [np.std((rng.normal(size=(2000, d)) * rng.normal(size=(2000, d))).sum(1)) for d in widths]
ax_d.plot(widths, raw, "o-", label="std of q . k")
ax_d.plot(widths, [r / np.sqrt(d) for r, d in zip(raw, widths)], "o-",
          label="std of q . k / sqrt(d)")
ax_d.set(xscale="log", xlabel="d", title="Dot products grow like sqrt(d)")
ax_d.legend()
fig.tight_layout()

# %% [markdown]
# ## Part 2: a transformer classifier (8 points)
#
# **The task: what did the last write store?** Each sequence is a little memory being written:
# 12 tokens, each one *pair* "key = value" (8 keys, A to H, and 8 values, 0 to 7; the pair
# (k, v) is token id `1 + 8 k + v`), then a 13th token that asks "key q?" (id `65 + q`). The
# answer is the value of the **last** pair written to key q, one of 8 classes. The query's key
# is always written at least twice, so the first match is usually the wrong one:
# `A=3 C=1 A=5 ... A?` is answered 5.
#
# This is what attention does well. At the query's position, attention compares the query with
# every pair's key (content), and the position embeddings let it prefer the latest match. Read
# the model's answer **at the query's position**, the last one: `x[:, -1, :]`, as a language
# model reads its next word at the last position. Averaging over all positions
# (`GlobalAveragePooling1D`) mixes the answer with 12 unrelated pairs and learns the task only
# partly. Other families of model fail it under the same budget: a bag of tokens sees the
# writes but not their order, and neither does attention without positions: it finds every pair
# of key q but cannot tell which came last, so the best it can do is guess among them (right
# about 52 % of the time on these sequences). A recurrent network must keep a table of all 8
# keys in one state; a dense network over the flattened sequence must learn every (position,
# key) comparison apart.
#
# ## Your task: `build_transformer(seq_len, vocab_size, num_classes)`
# Return a **compiled** `keras.Model`:
# - input: `keras.Input(shape=(seq_len,), dtype="int32")`, token ids in [0, vocab_size);
# - output: one score per class, shape `(batch, num_classes)` (probabilities or logits; the
#   grader takes the `argmax`);
# - compile it: labels are integer ids, so a *sparse* categorical cross-entropy, and
#   `metrics=["accuracy"]`;
# - keep to the rules below, at most {{transformer.max_params}} parameters.
#
# Hints, if you want them: the lecture's block is one design that works. Embed tokens and
# positions (`TokenAndPositionEmbedding(seq_len, vocab_size, embed_dim)` from the course
# library, already imported; or the fixed sine/cosine positions of the 2017 paper, the course's
# `SinePositionEncoding` added to a plain embedding: `x = x + SinePositionEncoding()(x)`), let
# `layers.MultiHeadAttention` mix them (a residual `+` and `layers.LayerNormalization` around
# it, and around a small feed-forward block), and read the answer where the query sits,
# `x[:, -1, :]`.

# %% [rules]

# %% [solution] id=build_transformer from=solutions.transformer:build_transformer
def build_transformer(seq_len, vocab_size, num_classes):
    """Return a compiled keras.Model for integer token sequences.

    Input: token ids, shape (batch, seq_len), values in [0, vocab_size). Output: one score
    per class, shape (batch, num_classes), probabilities or logits. Graded by training (see
    "Graded by training").
    """

# %% [markdown]
# ### Visible checks for Part 2

# %% [test] id=test_transformer_builds
model = build_transformer(13, 73, 8)
assert isinstance(model, keras.Model), f"expected a keras.Model, got {type(model).__name__}"
from autograder.visible import assert_rebuilds  # the grader's own rebuild test
assert_rebuilds(model, input_shape=(13,), max_params={{transformer.max_params}},
                max_activations={{transformer.max_activations}})
model.summary()

# %% [test] id=test_transformer_output_shape
model = build_transformer(13, 73, 8)
assert tuple(model.output_shape) == (None, 8), (
    f"expected output shape (None, 8), got {model.output_shape}")

# %% [test] id=test_transformer_compiled
model = build_transformer(13, 73, 8)
assert model.optimizer is not None and model.loss is not None, (
    "the model is not compiled: call model.compile(optimizer=..., loss=..., metrics=[...])")

# %% [markdown]
# ## Try it
# Train your model for a few epochs and look at the learning curves. This cell carries the tag
# `skip-grading`: the grader does not run it, because it trains your model itself. Its 20 epochs
# are not the grade: the grader trains much longer (below), and this task is learnt slowly at
# first. Try it once with `layers.Embedding(vocab_size, embed_dim)` in place of
# `TokenAndPositionEmbedding`, or with `layers.GlobalAveragePooling1D()(x)` in place of
# `x[:, -1, :]`, and compare.

# %% [code] tags=skip-grading
model = build_transformer(13, 73, 8)
result = training.fit(model, tokens.x_train, tokens.y_train,
                      budget=training.Budget(epochs=20, batch_size=64),
                      validation_data=(tokens.x_val, tokens.y_val))
print("validation accuracy:", round(result.history["val_accuracy"][-1], 3))
plots.learning_curves(result.history, title="Your transformer, 20 epochs");

# %% [handin]

# %% [markdown]
# ## Graded by training ({{test_transformer_accuracy.points}} points)
# The grader rebuilds your model from its configuration in a separate, trusted process and
# trains it from scratch with a fixed seed (batch {{transformer.batch_size}}) on fresh sequences
# drawn with a seed only the grader knows, for up to **{{transformer.epochs}} epochs**, stopping
# once validation accuracy has not improved for {{transformer.patience}} epochs and keeping the
# best weights. It then measures accuracy on **held-out sequences you have not seen**, drawn the
# same way. Accuracy of {{test_transformer_accuracy.threshold}} or more earns all
# {{test_transformer_accuracy.points}} points, {{test_transformer_accuracy.floor}} or less earns
# none, and points grow linearly in between.

# %% [test] id=test_transformer_accuracy
print("This check trains your model when the notebook is graded.")
### BEGIN HIDDEN TESTS
from autograder.inline import grade_check
grade_check("transformer", "test_transformer_accuracy", globals())
### END HIDDEN TESTS
