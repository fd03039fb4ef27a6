"""Candidate tasks for `rnn` and `transformer` (issue 17): does held-out accuracy separate the
family a task teaches from every other family under the parameter cap?

Each candidate task is trained with the strongest model we can name of each family: the
recurrent cells (LSTM, GRU and the plain SimpleRNN of the vanishing-gradient lecture), the widest
dense network over the flattened input, 1-D convolution stacks with global pooling (plain and
dilated), a recurrent layer fed the whole sequence as one step, bags of steps or tokens, and the
transformer block (reading the query's position, or pooling like the Keras textbook example).

Run: .venv/bin/python bench/sequence_tasks.py
     [--tasks switch_memory,where_is,address_lookup,kv_latest] [--seeds 0,1] [--backend jax]
     [--epochs 40] [--patience 15] [--out bench/results/sequence_tasks.md]
Each run trains with Adam, batch 64, early stopping on validation loss (--patience, 15 by
default; best weights restored), and scores on the task's test split. Rows are appended to the
output as they finish.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
MAX_PARAMS = 500_000  # the cap of the rnn and transformer specs


def _compile(model, learning_rate=3e-3):
    import keras

    model.compile(keras.optimizers.Adam(learning_rate),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model


def sequence_families(shape, classes):
    """name -> (family, builder) for (steps, features) float sequences."""
    import keras
    from keras import layers

    steps, features = shape

    def recurrent(cell, units):
        inputs = keras.Input(shape)
        return _compile(keras.Model(inputs, layers.Dense(classes)(cell(units)(inputs))))

    def dense():
        return _compile(keras.Sequential([
            keras.Input(shape), layers.Flatten(), layers.Dense(384, activation="relu"),
            layers.Dense(256, activation="relu"), layers.Dense(classes)]))

    def conv(depth, dilated):
        inputs = keras.Input(shape)
        x = inputs
        for k in range(depth):
            x = layers.Conv1D(128, 3, padding="same", dilation_rate=2 ** k if dilated else 1,
                              activation="relu")(x)
        x = layers.Dense(128, activation="relu")(layers.GlobalMaxPooling1D()(x))
        return _compile(keras.Model(inputs, layers.Dense(classes)(x)), 1e-3)

    def one_step():
        return _compile(keras.Sequential([
            keras.Input(shape), layers.Reshape((1, steps * features)), layers.LSTM(96),
            layers.Dense(classes)]))

    def bag():
        return _compile(keras.Sequential([
            keras.Input(shape), layers.TimeDistributed(layers.Dense(256, activation="relu")),
            layers.TimeDistributed(layers.Dense(256, activation="relu")),
            layers.GlobalAveragePooling1D(), layers.Dense(128, activation="relu"),
            layers.Dense(classes)]))

    return {
        "LSTM(64)": ("recurrent, gated", lambda: recurrent(layers.LSTM, 64)),
        "GRU(64)": ("recurrent, gated", lambda: recurrent(layers.GRU, 64)),
        "SimpleRNN(64)": ("recurrent, plain", lambda: recurrent(layers.SimpleRNN, 64)),
        "Flatten, Dense 384-256": ("dense on the flattened input", dense),
        "Conv1D 128 x5, global max": ("1-D convolution", lambda: conv(5, False)),
        "Conv1D 128 x7 dilated 1-64, global max": ("1-D convolution, dilated",
                                                   lambda: conv(7, True)),
        "whole sequence as one step, LSTM(96)": ("recurrent, one step", one_step),
        "bag of steps (Dense 256x2, average)": ("bag", bag),
    }


def token_families(seq_len, vocab_size, classes):
    """name -> (family, builder) for integer token sequences."""
    import keras
    from keras import layers

    from course.layers import TokenAndPositionEmbedding

    def block(read="last", positions=True, dim=32, heads=2, ff=64, lr=3e-3, dropout=0.0):
        tokens = keras.Input((seq_len,), dtype="int32")
        x = (TokenAndPositionEmbedding(seq_len, vocab_size, dim) if positions
             else layers.Embedding(vocab_size, dim))(tokens)
        attended = layers.Dropout(dropout)(layers.MultiHeadAttention(heads, dim // heads)(x, x))
        x = layers.LayerNormalization()(x + attended)
        ff_out = layers.Dense(dim)(layers.Dense(ff, activation="relu")(x))
        x = layers.LayerNormalization()(x + layers.Dropout(dropout)(ff_out))
        x = x[:, -1, :] if read == "last" else layers.GlobalAveragePooling1D()(x)
        return _compile(keras.Model(tokens, layers.Dense(classes)(x)), lr)

    def recurrent(units):
        tokens = keras.Input((seq_len,), dtype="int32")
        x = layers.GRU(units)(layers.Embedding(vocab_size, 32)(tokens))
        return _compile(keras.Model(tokens, layers.Dense(classes)(x)))

    def dense():
        tokens = keras.Input((seq_len,), dtype="int32")
        x = layers.Flatten()(layers.Embedding(vocab_size, 16)(tokens))
        x = layers.Dense(512, activation="relu")(x)
        x = layers.Dense(512, activation="relu")(x)
        return _compile(keras.Model(tokens, layers.Dense(classes)(x)))

    def conv():
        tokens = keras.Input((seq_len,), dtype="int32")
        x = layers.Embedding(vocab_size, 32)(tokens)
        for k in range(5):
            x = layers.Conv1D(128, 3, padding="same", dilation_rate=2 ** k, activation="relu")(x)
        x = layers.Dense(128, activation="relu")(layers.GlobalMaxPooling1D()(x))
        return _compile(keras.Model(tokens, layers.Dense(classes)(x)), 1e-3)

    def bag():
        tokens = keras.Input((seq_len,), dtype="int32")
        x = layers.Dense(128, activation="relu")(layers.Embedding(vocab_size, 64)(tokens))
        x = layers.Dense(128, activation="relu")(layers.GlobalAveragePooling1D()(x))
        return _compile(keras.Model(tokens, layers.Dense(classes)(x)))

    return {
        "block, reads the query (x[:, -1, :])": ("transformer", block),
        "block, average pooling (textbook)": ("transformer", lambda: block(read="mean")),
        "block, dim 64, 4 heads": ("transformer", lambda: block(dim=64, heads=4, ff=128)),
        "block reads the query, Adam 1e-3, dropout 0.1": (
            "transformer", lambda: block(lr=1e-3, dropout=0.1)),
        "block, average pooling, Adam 1e-3, dropout 0.1 (textbook settings)": (
            "transformer", lambda: block(read="mean", lr=1e-3, dropout=0.1)),
        "block without positions": ("attention, no positions", lambda: block(positions=False)),
        "GRU(48) (the block's parameters)": ("recurrent", lambda: recurrent(48)),
        "GRU(128)": ("recurrent", lambda: recurrent(128)),
        "Embedding 16, Flatten, Dense 512x2": ("dense on the flattened input", dense),
        "Conv1D 128 x5 dilated 1-16, global max": ("1-D convolution, dilated", conv),
        "bag of tokens": ("bag", bag),
    }


def _switch_memory():
    from course import sequences

    splits = sequences.load_switch_memory()
    return splits, sequence_families(splits.x_train.shape[1:], splits.num_classes)


def _where_is(vocab_size=32):
    from course import sequences

    splits = sequences.load_where_is(vocab_size=vocab_size)
    return splits, token_families(splits.x_train.shape[1], vocab_size, splits.num_classes)


def _address_lookup(seq_len=16, values=16):
    from course import sequences

    splits = sequences.load_address_lookup(seq_len=seq_len, values=values)
    return splits, token_families(seq_len + 1, 1 + values + seq_len, splits.num_classes)


def _kv_latest(pairs=12, keys=8, values=8):
    from course import sequences

    splits = sequences.load_latest_value(pairs=pairs, keys=keys, values=values)
    return splits, token_families(pairs + 1, 1 + keys * values + keys, values)


TASKS = {"switch_memory": _switch_memory, "where_is": _where_is,  # name -> (splits, families)
         "address_lookup": _address_lookup, "kv_latest": _kv_latest}


HEADER = ("| task | model | family | backend | seed | params | epochs run | test accuracy | "
          "fit s |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")


def append_row(out: Path, row: str) -> None:
    """Print ``row`` and append it to the results table ``out`` (started with its header)."""
    print(row, flush=True)
    if not out.exists():
        out.write_text(HEADER)
    with out.open("a") as handle:
        handle.write(row + "\n")


def builders(chosen: str, splits) -> dict:
    """name -> (family, builder) for the transformer builders named in ``chosen``."""
    sys.path.insert(0, str(ROOT / "bench"))
    from measure_rnn import load_builder

    vocab = 1 + max(int(x.max()) for x in (splits.x_train, splits.x_val, splits.x_test))
    shape = (splits.x_train.shape[1], vocab, splits.num_classes)
    out = {}
    for source in filter(None, chosen.split(";")):
        if source.startswith("style:"):
            text = (ROOT / "tests" / "styles" / f"{source[6:]}.py").read_text()
            build = load_builder("transformer", "build_transformer", "code:" + text, {})
        else:
            build = load_builder("transformer", "build_transformer", source, {})
        out[source] = ("course builder", lambda build=build: build(*shape))
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", default="switch_memory,where_is")
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--backend", default=os.environ.get("KERAS_BACKEND", "jax"))
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--patience", type=int, default=15)
    parser.add_argument("--only", default="", help="model names separated by ';' (they hold "
                        "commas; default all)")
    parser.add_argument("--builders", default="", help="also train the course's own builders "
                        "(token tasks): ';'-separated ref, fixture:NAME (autograder/fixtures/"
                        "transformer/NAME.py) or style:NAME (tests/styles/NAME.py)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "sequence_tasks.md"))
    args = parser.parse_args(argv)
    os.environ["KERAS_BACKEND"] = args.backend
    import keras

    out = Path(args.out)
    only = set(filter(None, args.only.split(";")))
    for task in args.tasks.split(","):
        splits, families = TASKS[task]()
        families = {**families, **builders(args.builders, splits)}
        for seed in map(int, args.seeds.split(",")):
            for name, (family, build) in families.items():
                if only and name not in only:
                    continue
                keras.utils.set_random_seed(seed)
                model = build()
                if model.count_params() > MAX_PARAMS:
                    raise SystemExit(f"{name}: {model.count_params():,} parameters, over the "
                                     f"cap of {MAX_PARAMS:,}")
                start = time.perf_counter()
                history = model.fit(
                    splits.x_train, splits.y_train, epochs=args.epochs, batch_size=64, verbose=0,
                    validation_data=(splits.x_val, splits.y_val),
                    callbacks=[keras.callbacks.EarlyStopping(patience=args.patience,
                                                             restore_best_weights=True)])
                seconds = time.perf_counter() - start
                accuracy = model.evaluate(splits.x_test, splits.y_test, verbose=0)[1]
                row = (f"| {task} | {name} | {family} | {args.backend} | {seed} | "
                       f"{model.count_params():,} | {len(history.history['loss'])} | "
                       f"{accuracy:.3f} | {seconds:.0f} |")
                append_row(out, row)


if __name__ == "__main__":
    main()
