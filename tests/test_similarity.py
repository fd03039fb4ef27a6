"""``course similarity``: copies found through renaming, reordering, re-commenting and re-wrapping;
independent solutions in different styles not flagged; one architecture in Sequential and
functional form grouped as one; shared wrong answers; the report's files."""
from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys

import pytest

from autograder import similarity
from autograder.similarity import architecture, graph, scoring
from autograder.similarity import values as value_scores

from similarity_helpers import course, exports, fixture_text

# A student's own CNN (not a fixture): two functions, comments, one line per call.
BASE_CNN = '''"""My CNN: a block of two convolutions, used twice."""


def conv_block(x, filters):
    # two convolutions and a pooling step
    x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
    x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
    return layers.MaxPooling2D()(x)


def build_cnn(input_shape, num_classes):
    inputs = keras.Input(shape=input_shape)
    x = conv_block(inputs, 24)  # first block
    x = conv_block(x, 48)  # second block, twice the filters
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(0.25)(x)
    x = layers.Dense(96, activation="relu")(x)
    outputs = layers.Dense(num_classes, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
'''
RENAMES = {"conv_block": "double_conv", "filters": "width", "inputs": "image", "x": "h",
           "outputs": "scores", "model": "net"}


def renamed(text: str) -> str:
    for old, new in RENAMES.items():
        text = re.sub(rf"\b{old}\b", new, text)
    return text


def reordered(text: str) -> str:
    head, *functions = text.split("\n\n\ndef ")
    return "\n\n\ndef ".join([head, *reversed([f.rstrip("\n") + "\n" for f in functions])])


def recommented(text: str) -> str:
    text = re.sub(r'"""[^"]*"""', '"""Convolutional classifier for the digits."""', text)
    text = re.sub(r"  # .*", "", text)
    text = re.sub(r"\n\s*# .*", "", text)
    return text.replace("    return layers.MaxPooling2D", "    # halve the resolution\n"
                        "    return layers.MaxPooling2D")


def _balanced(args: str) -> bool:
    depth = 0
    for ch in args:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0


def rewrapped(text: str) -> str:
    """Each call's arguments on lines of their own, with a trailing comma (black's style)."""
    out = []
    for line in text.splitlines():
        match = re.match(r"^(\s*)((?:\w+ = )?[\w.]+\()(.*?, .*?)\)(\(\w+\))?$", line)
        if match and len(line) > 60 and _balanced(match.group(3)):
            indent, opening, args, rest = match.groups()
            rest = rest or ""
            parts = [a.strip() for a in args.split(", ")]
            out.append(f"{indent}{opening}")
            out += [f"{indent}    {p}," for p in parts]
            out.append(f"{indent}){rest}")
        else:
            out.append(line)
    return "\n".join(out) + "\n"


def everything(text: str) -> str:
    return rewrapped(recommented(reordered(renamed(text))))


COPIES = {"copy_renamed": renamed, "copy_reordered": reordered, "copy_recommented": recommented,
          "copy_rewrapped": rewrapped, "copy_everything": everything}
CORRECT = ["reference", "passing/lenet5", "passing/mnist_convnet",
           "styles/cnn_functional_ops_residual", "styles/cnn_sequential_softmax"]
INDEPENDENT = CORRECT + ["dense_only", "gru_rows", "wide_dense"]  # mistakes, also apart

# The reference architecture written as a Sequential list: one architecture with the reference.
SEQUENTIAL_REFERENCE = '''"""The reference network, written as a Sequential list."""


def build_cnn(input_shape, num_classes):
    model = keras.Sequential()
    model.add(keras.Input(shape=input_shape))
    for n in (32, 64):
        model.add(layers.Conv2D(n, 3, padding="same", activation="relu"))
        model.add(layers.MaxPooling2D())
    model.add(layers.Conv2D(64, 3, padding="same"))
    model.add(layers.Activation("relu"))
    model.add(layers.GlobalMaxPooling2D())
    model.add(layers.Dense(64, activation="relu"))
    model.add(layers.Dense(num_classes))
    model.compile(optimizer="adam", metrics=["accuracy"],
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model
'''


def _id(name: str) -> str:
    return name.replace("/", "_")


@pytest.fixture(scope="module")
def cnn_batch(tmp_path_factory):
    students = {_id(n): fixture_text("cnn", n) for n in INDEPENDENT}
    students["base"] = BASE_CNN
    students.update({name: make(BASE_CNN) for name, make in COPIES.items()})
    students["sequential_reference"] = SEQUENTIAL_REFERENCE
    root = tmp_path_factory.mktemp("cnn_course")
    course(root, "cnn", students)
    page, table, comparison = similarity.run(root, "cnn")
    return page, table, comparison


def test_the_transformations_change_the_text():
    for name, make in COPIES.items():
        assert make(BASE_CNN) != BASE_CNN, name
    assert "def build_cnn" in reordered(BASE_CNN).split("def double_conv")[0] or \
        reordered(BASE_CNN).index("def build_cnn") < reordered(BASE_CNN).index("def conv_block")
    assert "    inputs,\n" not in rewrapped(BASE_CNN) and "        loss=" not in BASE_CNN
    assert '        loss="sparse_categorical_crossentropy",' in rewrapped(BASE_CNN)


@pytest.mark.parametrize("copy", list(COPIES))
def test_renamed_reordered_recommented_rewrapped_copies_are_flagged(cnn_batch, copy):
    _, _, c = cnn_batch
    pair = c.pair("base", copy)
    assert pair.flagged, (pair, c.stats)
    assert pair.code >= 0.8, pair


def test_code_scores_are_the_same_in_every_process():
    """Python seeds ``hash`` per process; fingerprints (and so scores) must not depend on it."""
    script = ("from autograder.similarity.code import Fingerprints as F; import sys; "
              "f = F({'a': sys.stdin.read(), 'b': ''}); print(sorted(f.prints['a'].hashes))")
    runs = {subprocess.run([sys.executable, "-c", script], input=BASE_CNN, text=True, check=True,
                           capture_output=True, env={**os.environ, "PYTHONHASHSEED": seed}).stdout
            for seed in ("1", "2", "3")}
    assert len(runs) == 1 and len(eval(runs.pop())) > 20  # noqa: S307 (a list of ints we printed)


def test_independent_solutions_in_different_styles_are_not_flagged(cnn_batch):
    _, _, c = cnn_batch
    correct = [_id(n) for n in CORRECT] + ["base", "sequential_reference"]
    flagged = [(p.a, p.b, round(p.combined, 3)) for p in c.pairs()
               if p.flagged and p.a in correct and p.b in correct]
    assert flagged == [], (flagged, c.stats)
    assert not c.pair("reference", "sequential_reference").flagged  # same model, own code
    copies = [p for p in c.pairs() if p.flagged]
    assert all(p.a in COPIES or p.b in COPIES for p in copies), copies


def test_sequential_and_functional_forms_are_one_architecture(cnn_batch):
    _, _, c = cnn_batch
    archs = c.architectures
    assert archs.same("build_cnn", "reference", "sequential_reference")
    groups = archs.groups("build_cnn")
    ref = next(g for g in groups if any("reference" in m for m in g.members.values()))
    same = next(m for m in ref.members.values() if "reference" in m)
    assert same == ["reference", "sequential_reference"]
    # the softmax-output style is near-identical: same group, and the difference is named
    variant = next(d for d, m in ref.members.items() if m == ["styles_cnn_sequential_softmax"])
    assert any("softmax" in line for line in ref.differences[variant]), ref.differences
    # the copies build one architecture too, whatever the names
    assert archs.same("build_cnn", "base", "copy_everything")


def test_csv_columns_and_values(cnn_batch):
    _, table, c = cnn_batch
    with open(table, newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["student_a", "student_b", "code", "architecture", "values", "flagged"]
    n = len(c.students)
    assert len(rows) - 1 == n * (n - 1) // 2
    for row in rows[1:]:
        assert all(0.0 <= float(x) <= 1.0 for x in row[2:5]), row
        assert row[5] in ("true", "false")
    flagged = {(r[0], r[1]) for r in rows[1:] if r[5] == "true"}
    assert ("base", "copy_everything") in flagged or ("copy_everything", "base") in flagged


def test_page_shows_code_architectures_reasons_and_what_flagged_means(cnn_batch):
    page, _, c = cnn_batch
    text = page.read_text()
    assert "relative to this batch" in text and "changes no grade" in text
    assert "class='m'" in text  # matching lines marked
    assert "architecture (identical)" in text
    assert "identical graph, built by" in text
    assert "Architecture groups" in text
    assert "double_conv" in text and "conv_block" in text  # both sides' code
    assert "the code as submitted" in text and "# first block" in text


def test_combined_flag_is_relative_to_the_batch():
    import numpy as np

    alike = np.full(100, 0.7)
    alike[0] = 0.75  # every pair alike: nothing stands out
    assert scoring.batchwide(alike).cutoff > 0.75
    spread = np.concatenate([np.linspace(0.1, 0.3, 99), [0.9]])
    assert scoring.batchwide(spread).cutoff < 0.9


def test_just_submitted_notebooks_compare_code_and_say_what_is_missing(tmp_path):
    students = {"base": BASE_CNN, "copy": everything(BASE_CNN),
                "lenet": fixture_text("cnn", "passing/lenet5")}
    course(tmp_path, "cnn", students, graded=False)
    page, table, c = similarity.run(tmp_path, "cnn", tmp_path / "out")
    assert page == tmp_path / "out" / "similarity.html"
    assert c.pair("base", "copy").code >= 0.8
    assert not c.architecture.any()
    assert "not graded yet" in page.read_text()


def _graph(model):
    import keras

    return graph.canonical(json.loads(json.dumps(keras.saving.serialize_keras_object(model))))


def test_graph_ignores_names_seeds_and_branch_order():
    import keras
    from keras import layers

    def branches(swap: bool, seed: int, prefix: str):
        inputs = keras.Input((8,), name=f"{prefix}_in")
        a = layers.Dense(4, name=f"{prefix}_a",
                         kernel_initializer=keras.initializers.GlorotUniform(seed=seed))(inputs)
        b = layers.Dense(5, name=f"{prefix}_b")(inputs)
        merged = layers.Concatenate()([b, a] if swap else [a, b])
        return keras.Model(inputs, layers.Dense(1, activation="sigmoid")(merged))

    one, two = _graph(branches(False, 1, "x")), _graph(branches(True, 7, "y"))
    assert one.digest == two.digest
    other = _graph(keras.Sequential([keras.Input((8,)), layers.Dense(9),
                                     layers.Dense(1, activation="sigmoid")]))
    assert other.digest != one.digest
    rows = architecture.side_by_side(one, other)
    assert any(state != "same" for *_, state in rows)


def test_graph_refuses_what_is_not_a_model_config():
    with pytest.raises(graph.ConfigError, match="expected a Keras model config"):
        graph.canonical({"class_name": "Sequential"})
    with pytest.raises(graph.ConfigError, match="expected a Sequential or functional model"):
        graph.canonical({"class_name": "MyModel", "config": {"units": 3}})


def test_values_count_identical_wrong_answers_not_right_ones():
    import numpy as np

    wrong = [np.array([1.0, 2.0]), 0.0]
    right = [np.array([3.0, 1.0]), 0.5]
    students = ["a", "b", "c", "d"]
    answers = {"fit#0": {"a": wrong, "b": [wrong[0] + 1e-9, 0.0], "c": right, "d": right}}
    scores, shared = value_scores.scores(students, answers, {"fit#0": {"c", "d"}})
    assert scores[0, 1] == 1.0  # the same bug, only these two
    assert scores[2, 3] == 0.0  # the same right answer
    assert shared == {"fit#0": [["a", "b"]]}


def test_perceptron_copy_of_a_bug_is_flagged_with_its_values(tmp_path):
    bug = fixture_text("perceptron", "fit_no_bias")
    students = {"ref": None, "textbook": fixture_text("perceptron", "passing/textbook"),
                "vectorised": fixture_text("perceptron", "styles/perceptron_vectorised_functional"),
                "bug": bug, "bug_copy": everything(bug).replace("target", "label")}
    course(tmp_path, "perceptron", students)
    _, _, c = similarity.run(tmp_path, "perceptron")
    assert c.pair("bug", "bug_copy").values == 1.0
    assert c.pair("ref", "textbook").values == 0.0
    assert c.pair("bug", "bug_copy").flagged


def test_saved_results_keep_the_export():
    from autograder.pipeline import Graded

    raw = {**exports("perceptron", None), "student": "ann", "score": 0, "max_score": 0,
           "reason": "", "device": "", "timings": {}, "isolation": "", "sandbox_error": None,
           "sandbox_log": "", "cells": [], "results": {}}
    for check in raw["checks"]:
        check["figures"] = {}
    again = Graded.from_json(raw).to_json()
    assert again["calls"] == raw["calls"]
    assert again["calls"]["build_mlp"]["config"]["class_name"] == "Sequential"


def test_cli_writes_the_report(tmp_path, capsys):
    from autograder import cli

    course(tmp_path, "cnn", {"a": BASE_CNN, "b": renamed(BASE_CNN)}, graded=False)
    assert cli.main(["similarity", "cnn", "--course-dir", str(tmp_path),
                     "--out", str(tmp_path / "sim")]) == 0
    out = capsys.readouterr().out
    assert str(tmp_path / "sim" / "similarity.html") in out
    assert (tmp_path / "sim" / "similarity.csv").exists()
    assert cli.main(["similarity", "cnn", "--course-dir", str(tmp_path / "none")]) == 2
    assert "no submissions of cnn" in capsys.readouterr().err


def test_broken_notebooks_and_exports_do_not_stop_the_batch(tmp_path):
    ws = course(tmp_path, "cnn", {"a": BASE_CNN, "b": renamed(BASE_CNN), "c": None})
    ws.submitted("cnn", "c").write_text("{not json")  # an unreadable notebook: no code
    ws.save_result("cnn", "b", {"calls": {"build_cnn": {"ok": True, "config": {
        "class_name": "MyModel", "config": {}}}}, "checks": []})  # a subclassed model
    ws.save_result("cnn", "c", {"checks": []})  # graded before exports were saved
    page, table, c = similarity.run(tmp_path, "cnn")
    text = page.read_text()
    assert "could not be read as a model graph (b)" in text
    assert "graded before exports were saved" in text
    assert c.pair("a", "b").code >= 0.8 and c.pair("a", "c").code == 0.0


def test_similarity_has_help(capsys):
    from autograder import cli

    with pytest.raises(SystemExit) as exit_:
        cli.main(["similarity", "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "--out DIR" in out and "--course-dir" in out and "similarity.csv" in out
