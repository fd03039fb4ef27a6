"""How long ``course similarity`` takes for a course-sized batch (synthetic cnn submissions).

    .venv/bin/python bench/similarity.py [--n 500] [--copies 10] [--repeats 3]
                                         [--out bench/results/similarity.md]

Each synthetic student writes ``build_cnn`` their own way, drawn at random: a Sequential list,
``model.add`` calls or the functional API; one to three conv blocks of random widths, kernel,
padding and pooling; an optional dropout and hidden dense layer; their own variable names,
comments and optimizer. ``--copies`` of them are copied by another student, renamed, reordered,
re-commented and re-wrapped (the transformations of ``tests/test_similarity.py``). Each
submission's export (its Keras config) is made here by running the generated code, as the
sandbox would at grading time, and saved as ``course grade`` saves it; that preparation is not
timed. Timed: ``autograder.similarity.run`` (read every notebook and result, fingerprint, build
and compare every architecture, combine, write the HTML page and the CSV of all pairs), the
median of ``--repeats`` runs, each in a fresh process so nothing is cached.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

NAMES = [("x", "inputs", "outputs", "model"), ("h", "inp", "logits", "net"),
         ("z", "image", "scores", "cnn"), ("t", "source", "probs", "clf"),
         ("feat", "img", "out", "m")]
COMMENTS = ["# convolution block", "# extract features", "# downsample", "# my layers", ""]


def student_code(rng: random.Random) -> str:
    """One student's build_cnn, drawn at random."""
    x, inputs, outputs, model = rng.choice(NAMES)
    blocks = [(rng.choice([8, 16, 24, 32, 48, 64]), rng.choice([3, 5]),
               rng.choice(["same", "valid"]) if i == 0 else "same",
               rng.choice(["MaxPooling2D()", "AveragePooling2D(2)"]))
              for i in range(rng.randint(1, 3))]
    head = rng.choice(["GlobalMaxPooling2D", "GlobalAveragePooling2D", "Flatten"])
    dropout = rng.choice([None, 0.2, 0.25, 0.5])
    hidden = rng.choice([None, 32, 64, 128])
    softmax = rng.random() < 0.5
    optimizer = rng.choice(['"adam"', "keras.optimizers.Adam(1e-3)", '"rmsprop"',
                            "keras.optimizers.Adam(learning_rate=0.002)"])
    loss = ('"sparse_categorical_crossentropy"' if softmax else
            "keras.losses.SparseCategoricalCrossentropy(from_logits=True)")
    layer_calls = []
    for filters, kernel, padding, pool in blocks:
        layer_calls.append(f'layers.Conv2D({filters}, {kernel}, padding="{padding}", '
                           'activation="relu")')
        layer_calls.append(f"layers.{pool}")
    layer_calls.append(f"layers.{head}()")
    if dropout:
        layer_calls.append(f"layers.Dropout({dropout})")
    if hidden:
        layer_calls.append(f'layers.Dense({hidden}, activation="relu")')
    layer_calls.append("layers.Dense(num_classes" + (', activation="softmax")' if softmax else ")"))
    comment = rng.choice(COMMENTS)
    style = rng.choice(["list", "add", "functional"])
    lines = ["def build_cnn(input_shape, num_classes):"]
    if comment:
        lines.append(f"    {comment}")
    if style == "list":
        lines.append(f"    {model} = keras.Sequential([")
        lines.append("        keras.Input(shape=input_shape),")
        lines += [f"        {call}," for call in layer_calls]
        lines.append("    ])")
    elif style == "add":
        lines.append(f"    {model} = keras.Sequential()")
        lines.append(f"    {model}.add(keras.Input(shape=input_shape))")
        lines += [f"    {model}.add({call})" for call in layer_calls]
    else:
        lines.append(f"    {inputs} = keras.Input(shape=input_shape)")
        lines.append(f"    {x} = {inputs}")
        lines += [f"    {x} = {call}({x})" for call in layer_calls[:-1]]
        lines.append(f"    {outputs} = {layer_calls[-1]}({x})")
        lines.append(f"    {model} = keras.Model({inputs}, {outputs})")
    lines.append(f"    {model}.compile(optimizer={optimizer}, loss={loss}, "
                 'metrics=["accuracy"])')
    lines.append(f"    return {model}")
    return "\n".join(lines) + "\n"


def make_course(root: Path, n: int, copies: int, seed: int) -> list[tuple[str, str]]:
    """Write the release, n submissions and their results; returns the planted copy pairs."""
    import similarity_helpers as helpers
    import test_similarity as transforms

    rng = random.Random(seed)
    students = {f"s{i:03d}": student_code(rng) for i in range(n - copies)}
    originals = rng.sample(sorted(students), copies)
    planted = []
    for k, original in enumerate(originals):
        copy = f"c{k:03d}"
        students[copy] = transforms.everything(
            students[original] +
            "\n\n\ndef helper_unused():\n    return None\n")
        planted.append((original, copy))
    configs: dict[str, dict] = {}
    ws = helpers.course(root, "cnn", students, graded=False)
    for student, text in students.items():
        if text not in configs:
            configs[text] = helpers.exports("cnn", text)
        ws.save_result("cnn", student, {**configs[text], "student": student})
    return planted


def timed_run(root: Path) -> dict:
    """One ``similarity.run`` in a fresh process: seconds per stage and the flagged pairs."""
    code = f"""
import json, sys, time
t0 = time.perf_counter()
from autograder import similarity
t1 = time.perf_counter()
page, table, c = similarity.run({str(root)!r}, "cnn")
t2 = time.perf_counter()
flagged = [[p.a, p.b] for p in c.pairs() if p.flagged]
same = [[a, b] for a, b in flagged if c.fingerprints.prints[a].filtered_code ==
        c.fingerprints.prints[b].filtered_code]
print(json.dumps({{"import": t1 - t0, "run": t2 - t1, "stages": c.seconds, "flagged": flagged,
                  "same_tokens": same,
                  "pairs": len(c.students) * (len(c.students) - 1) // 2, "page": str(page),
                  "cutoff": c.stats.cutoff, "median": c.stats.median}}))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500, help="submissions (default: 500)")
    parser.add_argument("--copies", type=int, default=10, help="planted copies (default: 10)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs (default: 3)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "similarity.md")
    parser.add_argument("--keep", type=Path, metavar="DIR", help="make the course here and keep "
                        "it (default: a temporary folder)")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with tempfile.TemporaryDirectory(prefix="similarity-bench-") as tmp:
        root = args.keep or Path(tmp)
        t0 = time.perf_counter()
        planted = make_course(root, args.n, args.copies, args.seed)
        prepared = time.perf_counter() - t0
        runs = [timed_run(root) for _ in range(args.repeats)]
        page_bytes = Path(runs[-1]["page"]).stat().st_size
    runs.sort(key=lambda r: r["run"])
    median = runs[len(runs) // 2]
    flagged = {tuple(sorted(p)) for p in median["flagged"]}
    found = sum(tuple(sorted(p)) in flagged for p in planted)
    others = flagged - {tuple(sorted(p)) for p in planted}
    false = len(others)
    same = len(others & {tuple(sorted(p)) for p in median["same_tokens"]})
    command = " ".join(["python", "bench/similarity.py", *sys.argv[1:]])
    stages = ", ".join(f"{k} {v:.2f}" for k, v in median["stages"].items())
    runs_text = ", ".join(f"{r['run']:.1f}" for r in runs)
    rows = [
        ("pairs", f"{median['pairs']:,}"),
        (f"`similarity.run` wall seconds, median of {args.repeats} (each run: {runs_text})",
         f"**{median['run']:.1f}**"),
        ("of which, inside the comparison (seconds)", stages),
        (f"rest of the run: reading {args.n} notebooks and results, writing the page and the "
         "CSV", f"{median['run'] - sum(median['stages'].values()):.1f}"),
        ("`import autograder.similarity` before the run (seconds; its dependencies load inside "
         "the run, counted above)", f"{median['import']:.1f}"),
        ("planted copies flagged", f"{found} of {len(planted)}"),
        ("other pairs flagged", f"{false}, of which {same} have the same token stream (two "
         "random draws that came out as one program up to names and comments: the "
         "generator's choices are few)"),
        ("batch median / cutoff of the combined score",
         f"{median['median']:.3f} / {median['cutoff']:.3f}"),
        ("HTML page size", f"{page_bytes / 1e6:.1f} MB"),
    ]
    table = "\n".join(f"| {what} | {value} |" for what, value in rows)
    report = f"""# `course similarity` at a course's scale

Command: `{command}` ({datetime.date.today()}, {platform.processor() or platform.machine()},
{os.cpu_count()} cores, Python {platform.python_version()}).

{args.n} synthetic cnn submissions ({args.n - args.copies} written at random in three styles,
{args.copies} of them copied by another student with renamed variables, reordered functions,
new comments and re-wrapped lines), each with its exported Keras config saved as `course grade`
saves it (preparation, not timed: {prepared:.0f} s).

| what | value |
| --- | --- |
{table}

Goal: 500 submissions (124,750 pairs) in under a minute on 2 cores.
"""
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report)
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
