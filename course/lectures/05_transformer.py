# %% [markdown]
# # Lecture 5: Attention and the transformer
#
# A recurrent network passes information along a chain, one step at a time, and (Lecture 4)
# loses it over long distances. In 2017 Vaswani and colleagues proposed the **transformer**,
# which drops the chain: at every layer, every position may look directly at every other
# position and take what it needs. The mechanism for "looking" is **attention**, which had
# already been used to help recurrent translation models (Bahdanau, Cho and Bengio, 2014).
#
# This lecture builds attention up from a dictionary lookup, explains its scaling and its
# masks, shows why attention on its own cannot tell word order, assembles a transformer block,
# races it against a recurrent network, and draws the attention map of a trained model.
# Writing attention yourself is part of the `transformer` assignment; here we use the version
# Keras ships, `keras.ops.dot_product_attention`.

# %% [markdown]
# ## Setup

# %%
from course import runtime

runtime.configure()

import time

import matplotlib.pyplot as plt
import numpy as np
import keras
from keras import layers, ops

from course import plots
from course.layers import TokenAndPositionEmbedding

runtime.seed_everything(0)
rng = np.random.default_rng(0)
print("Keras", keras.__version__, "on", runtime.detect_device())

# %% [markdown]
# ## Attention as a soft lookup
#
# A Python dictionary maps a key to a value: ask with a key that matches exactly and you get
# that one value back. Attention relaxes both halves of that:
#
# 1. keys and the question (the **query**) are vectors, and the match between them is a score:
#    their dot product, large when they point the same way;
# 2. instead of returning the single best value, it returns a **weighted average** of all
#    values, with weights from a softmax of the scores (positive, summing to 1).
#
# For a query $q$, keys $k_1 \dots k_n$ (rows of $K$) and values $v_1 \dots v_n$ (rows of $V$),
# all of dimension $d$:
#
# $$\text{weights} = \mathrm{softmax}\!\left(\frac{K q}{\sqrt d}\right), \qquad
# \text{answer} = \sum_i \text{weight}_i \, v_i.$$
#
# `keras.ops.dot_product_attention` computes exactly this, for whole batches of queries and
# several heads at once (arrays shaped batch, positions, heads, dimension). It returns the
# answer, not the weights; but if the values are the rows of an identity matrix, the answer
# *is* the weights. Below, four keys in 4 dimensions; the query resembles key 2 most. Its
# `scale` argument multiplies the scores (the default is $1/\sqrt d$), which lets us make the
# lookup blurrier or sharper.

# %%
keys = np.array([[1.0, 0.0, 0.0, 1.0],
                 [0.0, 1.0, 0.0, 0.0],
                 [1.0, 1.0, 1.0, 0.0],
                 [0.0, 0.0, 1.0, 1.0]], dtype="float32")
query = np.array([[0.9, 1.0, 0.8, 0.0]], dtype="float32")
values = np.array([10.0, 20.0, 30.0, 40.0])


def lookup_weights(q, k, **options):
    """Attention weights of each query row over the key rows (values = identity, one head)."""
    identity = np.eye(len(k), dtype="float32")
    out = ops.dot_product_attention(q[None, :, None, :], k[None, :, None, :],
                                    identity[None, :, None, :], **options)
    return ops.convert_to_numpy(out)[0, :, 0, :]


d = keys.shape[1]
fig, axes = plt.subplots(1, 3, figsize=(10, 2.8), sharey=True)
for ax, sharpness in zip(axes, (0.3, 1.0, 5.0)):
    weights = lookup_weights(query, keys, scale=sharpness / np.sqrt(d))[0]
    ax.bar(range(4), weights, color=["gray", "gray", "tab:orange", "gray"])
    ax.set(xticks=range(4), xlabel="key",
           title=f"scores x {sharpness}: answer {weights @ values:.1f}")
axes[0].set_ylabel("attention weight")
fig.suptitle("Soft lookup: a weighted average of the values 10, 20, 30, 40")
fig.tight_layout()
default = lookup_weights(query, keys)[0]
print("weights at the default scale:", default.round(3), " answer", round(default @ values, 2))
assert np.argmax(default) == 2 and np.isclose(default.sum(), 1.0, atol=1e-5)

# %% [markdown]
# With flat weights the answer is a blur of every value; with sharp weights it approaches the
# hard lookup (30). The model learns how sharp to be by learning the size of its vectors.
#
# ## Why divide by $\sqrt d$?
#
# Here $d$ is the *dimension* of the query and key vectors (4 above). Suppose their entries are
# independent with mean 0 and variance 1, as they roughly are at initialisation. Then
# $q \cdot k = \sum_{j=1}^{d} q_j k_j$ is a sum of $d$ independent terms of variance 1, so its
# **variance is $d$** and its typical size $\sqrt d$. With $d = 512$, scores would be spread
# over tens of units, the softmax would put nearly all weight on one key, and its gradient with
# respect to the other scores would be nearly zero. Dividing by $\sqrt d$ brings the variance
# back to 1 whatever the dimension. Measured:

# %%
for dim in (4, 64, 512):
    q, k = rng.normal(size=(2, 20000, dim))
    raw = (q * k).sum(axis=1)  # 20,000 dot products of random d-dimensional vectors
    scaled = raw / np.sqrt(dim)
    top_raw = float(ops.max(ops.softmax(raw[:32])))  # 32 keys competing for one query
    top_scaled = float(ops.max(ops.softmax(scaled[:32])))
    print(f"d={dim:3d}: variance of q.k {raw.var():6.1f}, of q.k/sqrt(d) {scaled.var():.2f}; "
          f"largest of 32 softmax weights {top_raw:.2f} unscaled, {top_scaled:.2f} scaled")
    assert abs(raw.var() / dim - 1) < 0.1 and abs(scaled.var() - 1) < 0.1

# %% [markdown]
# ## Masks: who may look at whom
#
# Sometimes a position must *not* see some keys. A language model predicting the next word may
# only look at earlier words (a **causal** mask); in a batch of sentences padded to the same
# length, nobody should attend to the padding (a **padding** mask). A mask is an array of
# true/false (or 1/0) with one entry per (query, key) pair, true where attending is allowed.
# Disallowed scores are set to $-\infty$ before the softmax, so their weights are exactly 0 and
# the remaining weights still sum to 1. In Keras: `dot_product_attention(..., mask=...)`, or
# `is_causal=True`; `layers.MultiHeadAttention` takes `attention_mask=` and `use_causal_mask=`.

# %%
x_seq = rng.normal(size=(6, 6)).astype("float32")  # 6 positions, each a 6-dimensional vector
causal = lookup_weights(x_seq, x_seq, is_causal=True)
print("causal self-attention weights (row = query, column = key):")
print(causal.round(2))
assert np.allclose(np.triu(causal, k=1), 0) and np.allclose(causal.sum(axis=1), 1, atol=1e-5)

# %% [markdown]
# ## Self-attention
#
# In **self-attention** the queries, keys and values all come from the same sequence: each
# position's vector is mapped by three learned matrices to a query, a key and a value
# ($Q = XW_Q$, $K = XW_K$, $V = XW_V$), and each position's output is its own soft lookup over
# all positions: $\mathrm{softmax}(QK^\top/\sqrt{d})\,V$. *Multi-head* attention runs several
# such lookups side by side with separate, smaller matrices, so that one head can track one
# relationship and another head another; their answers are concatenated and mixed by one more
# matrix. Keras provides the whole thing as `layers.MultiHeadAttention`.
#
# ## The blind spot: order
#
# Nothing in that formula knows *where* a vector sits. Shuffle the positions of the input and
# the outputs are shuffled in exactly the same way; average them (as a classifier head often
# does) and the result does not change at all:

# %%
attention = layers.MultiHeadAttention(num_heads=2, key_dim=8)
x = rng.normal(size=(1, 6, 16)).astype("float32")
shuffled = x[:, rng.permutation(6)]
pooled = ops.convert_to_numpy(ops.mean(attention(x, x), axis=1))
pooled_shuffled = ops.convert_to_numpy(ops.mean(attention(shuffled, shuffled), axis=1))
print("largest difference after shuffling the input:",
      float(np.abs(pooled - pooled_shuffled).max()))
assert np.allclose(pooled, pooled_shuffled, atol=1e-5)

# %% [markdown]
# To a model built only of attention, a sentence is a **bag of tokens**. The fix is to add
# position information to each token's vector before the first layer. The original
# transformer used fixed sine waves; here we use a learned vector per position, the course
# library's `TokenAndPositionEmbedding`: token embedding + position embedding.
#
# ## A task that needs order: which marker comes first?
#
# Each sequence holds 24 tokens from a vocabulary of 12. The three marker tokens 1, 2 and 3
# ("A", "B", "C") appear exactly once each, at random places; the rest are filler tokens 4-11.
# The label is **which marker comes first** (0 for A, 1 for B, 2 for C). Every sequence contains
# the same three markers, so which tokens it holds says nothing about the answer: a model without
# positions gives the same output for every ordering of the same tokens and can do no better
# than guessing (one in three).

# %%
SEQ_LEN, VOCAB, MARKERS = 24, 12, (1, 2, 3)
NAMES = {1: "A", 2: "B", 3: "C"}


def first_marker_task(n):
    tokens = rng.integers(4, VOCAB, size=(n, SEQ_LEN))
    for row in tokens:
        row[rng.choice(SEQ_LEN, len(MARKERS), replace=False)] = MARKERS
    where = np.stack([np.argmax(tokens == m, axis=1) for m in MARKERS], axis=1)
    return tokens.astype("int32"), np.argmin(where, axis=1).astype("int32")


x_train, y_train = first_marker_task(1500)
x_val, y_val = first_marker_task(500)
for row, label in zip(x_train[:3], y_train[:3]):
    print(" ".join(NAMES.get(t, ".") for t in row), "-> first:", "ABC"[label])

# %% [markdown]
# ## A transformer block
#
# Attention is one part of a transformer *block*. The other parts each have a job:
#
# - **Feed-forward network.** Attention only *mixes*: each output is a weighted average of value
#   vectors. A small two-layer network applied to every position separately (the same weights
#   at every position) then *transforms* each mixed vector, with a nonlinearity. Attention
#   gathers ("marker B is at position 5, marker A at 9"); the feed-forward layers compute with
#   what was gathered.
# - **Residual connections.** Each part adds its result to its input, $x + f(x)$, instead of
#   replacing it. A block then learns a *correction* to what it receives, the input's
#   information (such as a token's position) is never lost, and the gradient has a direct path
#   back through every block: the same idea made 100-layer CNNs trainable (ResNet, 2015).
# - **Layer normalisation.** Rescales each position's vector to mean 0 and variance 1 (then
#   applies a learned scale and shift), so that, however many blocks are stacked, the inputs of
#   each attention and feed-forward part stay in the range where softmax and learning rates
#   behave. The original transformer normalised after each residual addition ("post-norm");
#   most recent models normalise each part's input instead ("pre-norm"), which trains more
#   stably in deep stacks. This model is pre-norm.
#
# The classifier below is one such block on token + position embeddings (dimension 32, four
# heads of 8), with the output read from the average over positions. Since several models of
# different kinds are compared on this task, each is written out in full.

# %%
def compiled(model):
    model.compile(optimizer=keras.optimizers.Adam(3e-3), metrics=["accuracy"],
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


runtime.seed_everything(0)
tokens = keras.Input((SEQ_LEN,), dtype="int32")
x = TokenAndPositionEmbedding(SEQ_LEN, VOCAB, 32)(tokens)
normed = layers.LayerNormalization()(x)
mixed, attention_weights = layers.MultiHeadAttention(num_heads=4, key_dim=8)(
    normed, normed, return_attention_scores=True)
x = layers.Add()([x, mixed])                               # residual around attention
normed = layers.LayerNormalization()(x)
transformed = layers.Dense(32)(layers.Dense(64, activation="relu")(normed))
x = layers.Add()([x, transformed])                         # residual around feed-forward
logits = layers.Dense(len(MARKERS))(layers.GlobalAveragePooling1D()(x))
block_model = compiled(keras.Model(tokens, logits, name="one_block"))
attention_map = keras.Model(tokens, attention_weights)     # same layers, reads the weights

runtime.seed_everything(0)
tokens = keras.Input((SEQ_LEN,), dtype="int32")
state = layers.GRU(32)(layers.Embedding(VOCAB, 32)(tokens))
gru_model = compiled(keras.Model(tokens, layers.Dense(len(MARKERS))(state), name="gru"))
print(f"transformer block {block_model.count_params():,} weights, "
      f"GRU {gru_model.count_params():,} weights")

# %% [markdown]
# ## Transformer block against a recurrent network
#
# Both models are trained for 6 epochs, then scored once on the validation sequences. A small
# Keras callback times every epoch: the first one includes compiling the training step, so we
# compare the later ones.

# %%
class EpochTimer(keras.callbacks.Callback):
    """Records the seconds each epoch took."""

    def on_train_begin(self, logs=None):
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self.start)


EPOCHS = 6
race = {}
for model in (block_model, gru_model):
    timer = EpochTimer()
    history = model.fit(x_train, y_train, epochs=EPOCHS, batch_size=64, verbose=0,
                        callbacks=[timer]).history
    guesses = np.argmax(ops.convert_to_numpy(model.predict(x_val, verbose=0)), axis=1)
    race[model.name] = (history["accuracy"], timer.seconds, float((guesses == y_val).mean()))
    print(f"{model.name:9s} validation accuracy {race[model.name][2]:.3f}; "
          f"seconds per epoch after the first {np.median(timer.seconds[1:]):.2f} "
          f"(first {timer.seconds[0]:.1f})")
assert race["one_block"][2] > 0.85 and race["gru"][2] > 0.85

fig, (ax_acc, ax_time) = plt.subplots(1, 2, figsize=(10, 3.2))
for name, (accuracy, seconds, _) in race.items():
    ax_acc.plot(range(1, EPOCHS + 1), accuracy, "o-", label=name)
    ax_time.bar(name, np.median(seconds[1:]))
ax_acc.axhline(1 / 3, color="gray", ls=":", label="guessing (any model without positions)")
ax_acc.set(xlabel="epoch", ylabel="training accuracy", ylim=(0, 1.05),
           title="Which marker comes first?")
ax_acc.legend(fontsize=8)
ax_time.set(ylabel="seconds per epoch", title=f"Time per epoch ({runtime.detect_device().kind})")
fig.tight_layout()

# %% [markdown]
# Both solve the task: order is natural for a recurrent network, and the transformer gets it
# from its position embeddings. The interesting difference is *how the work is done*. The GRU
# must take its 24 steps one after another, each a small matrix product that waits for the
# previous one. The transformer block handles all 24 positions at once in a few large matrix
# products, at the price of comparing every position with every other ($24^2$ scores). On a
# CPU with short sequences, as here, the two take similar time per epoch, and either may win.
# On a GPU, which is fast only when given large products to do in parallel, the transformer
# pulls far ahead, and that, more than accuracy, is why it displaced recurrent networks for
# training on huge amounts of text.
#
# ## An attention map
#
# The attention weights of a trained model can be read out and drawn: row $i$ shows how
# position $i$ (the query) spread its attention over all positions (the keys). Here are the four
# heads of the transformer block for one validation sequence; the markers are in red.

# %%
example = x_val[:1]
maps = ops.convert_to_numpy(attention_map(example))[0]  # (heads, queries, keys)
labels = [NAMES.get(t, str(t)) for t in example[0]]
fig, axes = plt.subplots(1, 4, figsize=(14, 3.8))
for head, ax in enumerate(axes):
    ax.imshow(maps[head], cmap="viridis", vmin=0)
    ax.set_xticks(range(SEQ_LEN), labels, fontsize=6)
    ax.set_yticks(range(SEQ_LEN), labels, fontsize=6)
    for tick in ax.get_xticklabels() + ax.get_yticklabels():
        if tick.get_text() in "ABC":
            tick.set_color("red")
            tick.set_fontweight("bold")
    ax.set(xlabel="key (attended to)", title=f"head {head + 1}")
axes[0].set_ylabel("query (attending)")
answer = int(np.argmax(ops.convert_to_numpy(block_model(example))))
fig.suptitle(f"Attention weights for one sequence; first marker {'ABC'[y_val[0]]}, "
             f"predicted {'ABC'[answer]}")
fig.tight_layout()

on_markers = np.isin(x_val[:200], MARKERS)[:, None, None, :]  # (sequences, 1, 1, keys)
all_maps = ops.convert_to_numpy(attention_map(x_val[:200]))   # (sequences, heads, q, k)
share = (all_maps * on_markers).sum(axis=-1).mean(axis=(0, 2))  # per head
print("share of each head's attention that goes to the 3 markers:", share.round(2),
      f"(spread evenly it would be {3 / SEQ_LEN:.2f})")
assert share.max() > 0.5

# %% [markdown]
# At least one head sends most of every row's weight to the three markers, over 200 validation
# sequences, not only this one: the filler tokens are useless to look up, and what each
# position gathers is the markers' (position-tagged) vectors, which the feed-forward part and
# the classifier then compare. Maps like this are a useful sanity check, but read them with
# care: a model with several layers and heads spreads its reasoning over all of them, and a
# weight only says where information was *copied from*, not what was done with it.
#
# Finally, the mistakes of the transformer block, as a confusion matrix:

# %%
predicted = np.argmax(ops.convert_to_numpy(block_model.predict(x_val, verbose=0)), axis=1)
fig = plots.confusion_figure(plots.confusion_matrix(y_val, predicted, 3),
                             labels=["A first", "B first", "C first"],
                             title="Validation sequences")

# %% [markdown]
# ## Change one line
#
# 1. Replace `TokenAndPositionEmbedding(SEQ_LEN, VOCAB, 32)` by `layers.Embedding(VOCAB, 32)`
#    (no positions) and retrain. Where does the validation accuracy stay, and why exactly there?
# 2. In the soft-lookup cell, set the sharpness to 50. Which value does the answer approach?
# 3. Remove the first `layers.Add()` (use `x = mixed`). What information does the block lose,
#    and does it still learn the task?
# 4. Change `SEQ_LEN` to 96 and compare the GRU's and the transformer's time per epoch again.

# %% [markdown]
# ## Self-check questions
#
# 1. A query has scores $(2, 0, 0)$ against three keys with values $(1, 5, 9)$. What does
#    attention return? What if the scores are $(20, 0, 0)$?
#
#    <details><summary>Answer</summary>
#
#    The weights are $e^2/(e^2 + 2) \approx 0.787$ and $1/(e^2 + 2) \approx 0.107$ twice, so the
#    answer is $0.787 \cdot 1 + 0.107 \cdot 5 + 0.107 \cdot 9 \approx 2.28$. With $(20, 0, 0)$
#    the weights are essentially $(1, 0, 0)$ and the answer is 1: a hard lookup.
#    </details>
#
# 2. Why does averaging the outputs of a self-attention layer give exactly the same result
#    for a sequence and any reordering of it?
#
#    <details><summary>Answer</summary>
#
#    Reordering the inputs reorders the queries, keys and values the same way; each output is a
#    weighted sum over all keys, which does not depend on their order, so the outputs are the
#    same vectors in the new order, and an average does not depend on order either.
#    </details>
#
# 3. Why is the variance of $q \cdot k$ equal to $d$ when the entries are independent with mean
#    0 and variance 1? What goes wrong in the softmax if we do not divide by $\sqrt d$?
#
#    <details><summary>Answer</summary>
#
#    Each product $q_j k_j$ has mean 0 and variance $1 \cdot 1 = 1$, and variances of independent
#    terms add: $d$ in total. Unscaled scores grow like $\sqrt d$, so the softmax becomes nearly
#    one-hot and its gradients with respect to the other scores nearly vanish.
#    </details>
#
# 4. Self-attention compares every position with every other. How does its cost grow with the
#    sequence length, and how does that compare with a recurrent layer?
#
#    <details><summary>Answer</summary>
#
#    Quadratically ($n^2$ scores) for attention, linearly for a recurrent layer. But the
#    recurrent layer's $n$ steps must run one after another, while attention's work is a few
#    large products that run in parallel.
#    </details>
#
# 5. In a causal mask, which entries of the (query, key) matrix are allowed? Why do the allowed
#    weights of each row still sum to 1?
#
#    <details><summary>Answer</summary>
#
#    Keys at or before the query's position (the diagonal and below). Disallowed scores become
#    $-\infty$ before the softmax, so they get weight 0, and the softmax normalises over the
#    remaining scores only.
#    </details>
