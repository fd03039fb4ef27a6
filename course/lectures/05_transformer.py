# %% [markdown]
# # Lecture 5: Attention and the transformer
#
# A recurrent network passes information along a chain, one step at a time, and (Lecture 4)
# loses it over long distances. In 2017 Vaswani and colleagues proposed the **transformer**,
# which drops the chain: at every layer, every position may look directly at every other
# position and take what it needs. The mechanism for "looking" is **attention**, which had
# already been used to help recurrent translation models (Bahdanau, Cho and Bengio, 2014).
#
# This lecture builds attention up from a dictionary lookup, shows why attention on its own
# cannot tell word order, adds positions, and draws an attention map of a trained model.

# %% [markdown]
# ## Setup

# %%
from course import runtime

runtime.configure()

import matplotlib.pyplot as plt
import numpy as np
import keras
from keras import layers, ops

from course import plots, training
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
# Dividing the scores by $\sqrt{d}$ (the vector length) keeps them from growing with the
# dimension; the softmax of large scores would be nearly one-hot, and its gradient nearly zero.
# Below, four keys in 4 dimensions hold four values; the query resembles key 2 most.

# %%
keys = np.array([[1.0, 0.0, 0.0, 1.0],
                 [0.0, 1.0, 0.0, 0.0],
                 [1.0, 1.0, 1.0, 0.0],
                 [0.0, 0.0, 1.0, 1.0]])
values = np.array([10.0, 20.0, 30.0, 40.0])
query = np.array([0.9, 1.0, 0.8, 0.0])

scores = keys @ query / np.sqrt(keys.shape[1])
fig, axes = plt.subplots(1, 3, figsize=(10, 2.8), sharey=True)
for ax, sharpness in zip(axes, (0.3, 1.0, 5.0)):
    weights = ops.convert_to_numpy(ops.softmax(scores * sharpness))
    ax.bar(range(4), weights, color=["gray", "gray", "tab:orange", "gray"])
    ax.set(xticks=range(4), xlabel="key",
           title=f"scores x {sharpness}: answer {weights @ values:.1f}")
axes[0].set_ylabel("attention weight")
fig.suptitle("Soft lookup: a weighted average of the values 10, 20, 30, 40")
fig.tight_layout()
print("scores:", scores.round(2))

# %% [markdown]
# With flat weights the answer is a blur of every value; with sharp weights it approaches the
# hard lookup (30). The model learns how sharp to be by learning the size of its vectors.
#
# ## Self-attention
#
# In **self-attention** the queries, keys and values all come from the same sequence: each
# position's vector is mapped by three learned matrices to a query, a key and a value
# ($Q = XW_Q$, $K = XW_K$, $V = XW_V$), and each position's output is its own soft lookup over
# all positions: $\mathrm{softmax}(QK^\top/\sqrt{d})\,V$. *Multi-head* attention runs several
# such lookups side by side with separate matrices, so that one head can track one
# relationship and another head another. Keras provides it as `layers.MultiHeadAttention`.
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

# %% [markdown]
# To a model built only of attention, a sentence is a **bag of tokens**. The fix is to add
# position information to each token's vector before the first layer. The original
# transformer used fixed sine waves; here we use a learned vector per position, the course
# library's `TokenAndPositionEmbedding`: token embedding + position embedding.
#
# ## A task that needs order
#
# Each sequence holds 12 tokens from a vocabulary of 10. Token 1 ("A") and token 2 ("B")
# appear exactly once, at random places; the rest are filler tokens 3-9. The question: **does
# A come before B?** Which tokens a sequence contains says nothing about the answer; only their
# order does, so a model that ignores order can only guess (50%).

# %%
SEQ_LEN, VOCAB, A, B = 12, 10, 1, 2


def order_task(n):
    tokens = rng.integers(3, VOCAB, size=(n, SEQ_LEN))
    for row in tokens:
        row[rng.choice(SEQ_LEN, 2, replace=False)] = [A, B]
    labels = (np.argmax(tokens == A, axis=1) < np.argmax(tokens == B, axis=1)).astype("int32")
    return tokens.astype("int32"), labels


x_train, y_train = order_task(2000)
x_val, y_val = order_task(500)
for row, label in zip(x_train[:3], y_train[:3]):
    print(row, "-> A before B" if label else "-> B before A")


def attention_classifier(with_positions):
    runtime.seed_everything(0)
    tokens = keras.Input((SEQ_LEN,), dtype="int32")
    if with_positions:
        x = TokenAndPositionEmbedding(SEQ_LEN, VOCAB, 32)(tokens)
    else:
        x = layers.Embedding(VOCAB, 32)(tokens)
    attended, scores = layers.MultiHeadAttention(num_heads=2, key_dim=16)(
        x, x, return_attention_scores=True)
    x = layers.LayerNormalization()(x + attended)
    x = layers.LayerNormalization()(x + layers.Dense(32)(layers.Dense(64, activation="relu")(x)))
    outputs = layers.Dense(2)(layers.GlobalAveragePooling1D()(x))
    model = keras.Model(tokens, outputs)
    model.compile(optimizer=keras.optimizers.Adam(3e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model, keras.Model(tokens, scores)


runs = {}
for with_positions in (False, True):
    model, scorer = attention_classifier(with_positions)
    result = training.fit(model, x_train, y_train, budget=training.Budget(epochs=10),
                          validation_data=(x_val, y_val), progress=False)
    name = "tokens + positions" if with_positions else "tokens only"
    runs[name] = (model, scorer, result)
    print(f"{name:18s} validation accuracy {result.history['val_accuracy'][-1]:.3f} "
          f"({result.seconds:.1f} s)")

fig, ax = plt.subplots(figsize=(6, 3.2))
for name, (_, _, result) in runs.items():
    ax.plot(range(1, 11), result.history["val_accuracy"], "o-", label=name)
ax.axhline(0.5, color="gray", ls=":", label="guessing")
ax.set(xlabel="epoch", ylabel="validation accuracy", ylim=(0.3, 1.05),
       title="Does A come before B? Same model, with and without positions")
ax.legend()
fig.tight_layout()

# %% [markdown]
# Without positions the model is stuck at chance however long it trains; with them it solves
# the task within a few epochs.
#
# ## An attention map
#
# The attention weights of a trained model can be read out and drawn: row $i$ shows how
# position $i$ (the query) spread its attention over all positions (the keys). Here are both
# heads of the model with positions, for one validation sequence; A and B are marked.

# %%
model, scorer, _ = runs["tokens + positions"]
example = x_val[:1]
maps = ops.convert_to_numpy(scorer(example))[0]  # (heads, queries, keys)
labels = ["A" if t == A else "B" if t == B else str(t) for t in example[0]]
fig, axes = plt.subplots(1, 2, figsize=(10, 4.4))
for head, ax in enumerate(axes):
    ax.imshow(maps[head], cmap="viridis", vmin=0)
    ax.set_xticks(range(SEQ_LEN), labels)
    ax.set_yticks(range(SEQ_LEN), labels)
    for tick in ax.get_xticklabels() + ax.get_yticklabels():
        if tick.get_text() in ("A", "B"):
            tick.set_color("red")
            tick.set_fontweight("bold")
    ax.set(xlabel="key (attended to)", ylabel="query (attending)", title=f"head {head + 1}")
answer = int(np.argmax(ops.convert_to_numpy(model(example))))
fig.suptitle(f"Attention weights for one sequence; label {y_val[0]}, predicted {answer} "
             "(1 = A before B)")
fig.tight_layout()

# %% [markdown]
# Most rows put their weight on the columns of A and B: the filler tokens have learned that
# the only useful thing to look up is where the two special tokens are, and each position's
# output then carries their (position-tagged) vectors to the classifier. Maps like this are a
# useful sanity check, but read them with care: a model with several layers and heads spreads
# its reasoning over all of them, and a weight only says where information was *copied from*,
# not what was done with it.
#
# Finally, the mistakes of the model with positions, as a confusion matrix:

# %%
predicted = training.predict_classes(model, x_val)
fig = plots.confusion_figure(plots.confusion_matrix(y_val, predicted, 2),
                             labels=["B first", "A first"], title="Validation sequences")

# %% [markdown]
# ## Self-check questions
#
# 1. A query has scores $(2, 0, 0)$ against three keys with values $(1, 5, 9)$. What does
#    attention return? What if the scores are $(20, 0, 0)$?
# 2. Why does averaging the outputs of a self-attention layer give exactly the same result
#    for a sequence and any reordering of it?
# 3. What would a model *without* positions be able to answer about these sequences? Name
#    one question it could learn and one it could not.
# 4. Self-attention compares every position with every other. How does its cost grow with the
#    sequence length, and how does that compare with a recurrent layer?
# 5. In the attention map, what would you expect row A to look like if the model compared A's
#    position directly with B's?
