"""Lecture notebooks: generated from text without outputs, each runs top to bottom on every backend,
and none of them hands out an assignment's answer under another name."""
import ast
import importlib.util
import json
import re
from pathlib import Path

import nbformat
import pytest

from course import lectures
from course.lectures import execute

ROOT = Path(__file__).resolve().parents[1]
STEMS = [stem for stem, _, _ in lectures.LECTURES]
BACKENDS = ["tensorflow", "jax", "torch"]
PREPARES = {"perceptron": "01_perceptron", "cnn": "03_cnn", "rnn": "04_rnn",
            "transformer": "05_transformer", "gan": "06_gan"}
SECONDS_LIMIT = 120  # "each lecture runs in under 2 minutes on a 2-core CPU"


def _specs() -> dict[str, dict]:
    return {path.stem: json.loads(path.read_text())
            for path in sorted((ROOT / "autograder" / "specs").glob("*.json"))}


def _tuples(value):
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def builder_cases() -> list[dict]:
    """Every pinned builder with the exact arguments the grader calls it with, the output shape
    its visible check expects, and whether it must come back compiled."""
    cases = []
    for assignment, spec in _specs().items():
        tasks, checks = spec["tasks"], spec["checks"]
        for name, how in spec["functions"].items():
            if "args" not in how:
                continue

            def about(check, name=name):
                return check.get("function", tasks[check["task"]].get("function")) == name

            shapes = [c["expected"] for c in checks if c["kind"] == "output_shape" and about(c)]
            cases.append({"assignment": assignment, "function": name,
                          "args": list(how["args"]), "expected": shapes[0] if shapes else None,
                          "compiled": any(c["kind"] == "compiled" and about(c) for c in checks)})
    return cases


def values_functions() -> set[str]:
    return {name for spec in _specs().values() for name, how in spec["functions"].items()
            if "args" not in how}


def pinned_names() -> set[str]:
    return {name for spec in _specs().values() for name in spec["functions"]}


def code_of(stem: str) -> str:
    nb = lectures.to_notebook(stem)
    return "\n\n".join(c.source for c in nb.cells if c.cell_type == "code")


def test_lecture_sources_convert_without_outputs(tmp_path):
    assert len(lectures.LECTURES) == 7
    for stem in STEMS:
        assert lectures.source_path(stem).is_file(), stem
        nb = lectures.to_notebook(stem)
        nbformat.validate(nb)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert code, f"{stem} has no code cells"
        assert all(c.outputs == [] and c.execution_count is None for c in code), stem
        assert not any(c.source.lstrip().startswith("# %%") for c in nb.cells), stem
        assert "## Self-check questions" in nb.cells[-1].source, stem
    paths = lectures.write_notebooks(tmp_path / "out")
    assert [p.name for p in paths] == [f"{stem}.ipynb" for stem in STEMS]
    assert all(nbformat.read(p, as_version=4).cells for p in paths)


def test_unknown_lecture_is_refused():
    with pytest.raises(ValueError, match="expected one of 01_perceptron"):
        lectures.source_path("99_nothing")


@pytest.mark.parametrize("stem", STEMS)
def test_lecture_pins_claims_and_offers_answers_and_exercises(stem):
    nb = lectures.to_notebook(stem)
    tree = ast.parse(code_of(stem))
    asserts = [node for node in ast.walk(tree) if isinstance(node, ast.Assert)]
    assert asserts, f"{stem}: no assert pins any claim (notebooks ship without outputs)"
    self_check = nb.cells[-1].source
    questions = re.findall(r"^\d+\. ", self_check, flags=re.M)
    answers = self_check.count("<details><summary>Answer</summary>")
    assert questions and answers == len(questions), (
        f"{stem}: {len(questions)} self-check questions but {answers} revealable answers")
    assert any(c.cell_type == "markdown" and c.source.startswith("## Change one line")
               for c in nb.cells), f"{stem}: no 'Change one line' exercises"


@pytest.mark.parametrize("stem", STEMS)
def test_lecture_code_does_not_name_a_pinned_function(stem):
    """The functions students write are named nowhere in a lecture's code: not defined, not
    called, not imported (the markdown may point to the assignment)."""
    tree = ast.parse(code_of(stem))
    names = {node.name for node in ast.walk(tree)
             if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
    names |= {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    names |= {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    names |= {alias.asname or alias.name for node in ast.walk(tree)
              if isinstance(node, (ast.Import, ast.ImportFrom)) for alias in node.names}
    assert not names & pinned_names(), f"{stem} names {sorted(names & pinned_names())}"
    assert "solutions" not in names, f"{stem} imports the reference solutions"


@pytest.mark.parametrize("stem", STEMS)
def test_lecture_builds_nothing_with_an_assignments_exact_arguments(stem):
    """No function a lecture defines is called with the arguments a grader passes to a builder
    (e.g. (16, 16, 1) and 4 for build_cnn): a lecture model solves a different task."""
    tree = ast.parse(code_of(stem))
    defined = {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
    graded = {tuple(_tuples(case["args"])): case["function"] for case in builder_cases()}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id in defined and not node.keywords:
            try:
                args = tuple(_tuples(ast.literal_eval(a)) for a in node.args)
            except ValueError:
                continue  # not all literals: cannot be a fixed assignment call
            assert args not in graded, (
                f"{stem}: {node.func.id}{args} is called with {graded.get(args)}'s arguments")


def test_each_assignment_names_the_lecture_that_prepares_it():
    for assignment, stem in PREPARES.items():
        source = (ROOT / "assignments" / assignment / f"{assignment}.py").read_text()
        assert f"course/lectures/{stem}.py" in source, (
            f"assignments/{assignment}/{assignment}.py should name course/lectures/{stem}.py")
        assert lectures.source_path(stem).is_file()


def test_lectures_command_accepts_execute():
    from autograder.cli import build_parser

    assert build_parser().parse_args(["lectures", "--execute"]).execute is True
    assert build_parser().parse_args(["lectures"]).execute is False


def test_kernel_environment_sets_backend_and_threads():
    env = execute.kernel_env("jax", threads=1)
    assert env["KERAS_BACKEND"] == "jax"
    assert env["OMP_NUM_THREADS"] == env["TF_NUM_INTRAOP_THREADS"] == "1"
    assert "intra_op_parallelism_threads=1" in env["XLA_FLAGS"]


# Appended to each lecture when it is executed in the tests: calls every function the lecture
# defined with each pinned function's graded arguments and reports any that passes that
# function's visible checks, whatever its name.
PROBE = r'''
import inspect as _inspect, json as _json, signal as _signal
import numpy as _np
import keras as _keras

_CASES = _json.loads(%r)
_VALUES = %r


def _tuples(v):
    return tuple(_tuples(x) for x in v) if isinstance(v, list) else v


def _alarm(*_):
    raise TimeoutError("probe call took too long")


def _call(f, args):
    try:
        _inspect.signature(f).bind(*args)
    except (TypeError, ValueError):
        return None
    _signal.signal(_signal.SIGALRM, _alarm)
    _signal.alarm(30)
    try:
        return f(*args)
    except Exception:
        return None
    finally:
        _signal.alarm(0)


_r = _np.random.default_rng(123)
_X = _r.uniform(-1, 1, (300, 3))
_y = (_X @ _np.array([1.0, -2.0, 0.5]) + 0.3 > 0).astype(int)
_q, _k, _v = _r.normal(size=(2, 3, 4)), _r.normal(size=(2, 5, 4)), _r.normal(size=(2, 5, 6))
_s = _q @ _np.swapaxes(_k, -1, -2) / 2.0
_w = _np.exp(_s - _s.max(-1, keepdims=True))
_attended = (_w / _w.sum(-1, keepdims=True)) @ _v


def _keras_out(layer, x):
    layer.build(x.shape)
    layer.set_weights([_r.normal(size=w.shape).astype("float32") for w in layer.get_weights()])
    return layer.get_weights(), _keras.ops.convert_to_numpy(layer(x))


_img = _r.normal(size=(2, 7, 7, 2)).astype("float32")
_conv_w, _conv_out = _keras_out(_keras.layers.Conv2D(3, 3, strides=2, padding="same"), _img)
_pooled = _keras.ops.convert_to_numpy(_keras.layers.MaxPooling2D(2)(_img))
_seq = _r.normal(size=(2, 5, 3)).astype("float32")
_lstm_w, _lstm_out = _keras_out(_keras.layers.LSTM(4, return_sequences=True), _seq)
_real, _fake = _r.normal(size=(6, 1)), _r.normal(size=(6, 1))
_bce = _keras.losses.BinaryCrossentropy(from_logits=True)
_d_loss = float(_bce(_np.r_[_np.ones((6, 1)), _np.zeros((6, 1))], _np.r_[_real, _fake]))
_g_loss = float(_bce(_np.ones((6, 1)), _fake))
_Xb, _yb = _r.normal(size=(8, 2)), _r.integers(0, 2, 8)
_mlp_w = [_r.normal(size=(2, 3)), _r.normal(size=3), _r.normal(size=(3, 1)), _r.normal(size=1)]


def _mlp_loss(W1, b1, W2, b2):
    p = 1 / (1 + _np.exp(-(_np.tanh(_Xb @ W1 + b1) @ W2 + b2)))[:, 0]
    return -_np.mean(_yb * _np.log(p) + (1 - _yb) * _np.log(1 - p))


def _finite_differences(eps=1e-6):
    grads = []
    for k, w in enumerate(_mlp_w):
        g = _np.zeros_like(w)
        for idx in _np.ndindex(w.shape):
            up = [v.copy() for v in _mlp_w]
            down = [v.copy() for v in _mlp_w]
            up[k][idx] += eps
            down[k][idx] -= eps
            g[idx] = (_mlp_loss(*up) - _mlp_loss(*down)) / (2 * eps)
        grads.append(g)
    return grads


_mlp_grads = _finite_differences()
_EXPECTED = {  # function -> (arguments, what the answer returns)
    "conv2d_forward": ((_img, *_conv_w, 2, "same"), _conv_out),
    "max_pool2d": ((_img,), _pooled),
    "lstm_forward": ((_seq, *_lstm_w), _lstm_out),
    "discriminator_loss": ((_real, _fake), _d_loss),
    "generator_loss": ((_fake,), _g_loss),
}


def _passes_values(name, f):
    if name == "perceptron_fit":
        out = _call(f, (_X[:200], _y[:200]))
        try:
            w, b = out
            return float(((_X[200:] @ _np.asarray(w) + float(b) > 0) == _y[200:]).mean()) >= 0.9
        except Exception:
            return False
    if name == "scaled_dot_product_attention":
        out = _call(f, (_q, _k, _v))
        try:
            return bool(_np.allclose(_np.asarray(out, dtype=float), _attended, atol=1e-4))
        except Exception:
            return False
    if name == "mlp_backward":
        out = _call(f, (_Xb, _yb, *_mlp_w))
        try:
            return len(out) == 4 and all(
                _np.allclose(_np.reshape(_np.asarray(o, dtype=float), g.shape), g, atol=1e-4)
                for o, g in zip(out, _mlp_grads))
        except Exception:
            return False
    if name in _EXPECTED:
        args, expected = _EXPECTED[name]
        out = _call(f, args)
        try:
            return bool(_np.allclose(_np.asarray(out, dtype=float), expected, atol=1e-4))
        except Exception:
            return False
    raise AssertionError(f"no probe for the values function {name!r}: add one to PROBE")


_found = []
for _name, _f in list(globals().items()):
    if _name.startswith("_") or not _inspect.isfunction(_f) or _f.__module__ != "__main__":
        continue
    for _case in _CASES:
        _out = _call(_f, _tuples(_case["args"]))
        if not isinstance(_out, _keras.Model):
            continue
        _shape_ok = _case["expected"] is None or \
            tuple(_out.output_shape) == _tuples(_case["expected"])
        _compiled_ok = not _case["compiled"] or (_out.optimizer is not None
                                                 and getattr(_out, "loss", None) is not None)
        if _shape_ok and _compiled_ok:
            _found.append(f"{_name} passes {_case['assignment']}'s checks for {_case['function']}")
    for _value_name in _VALUES:
        if _passes_values(_value_name, _f):
            _found.append(f"{_name} passes the checks for {_value_name}")
print("PROBE " + _json.dumps(_found))
'''


def probe_source() -> str:
    return PROBE % (json.dumps(builder_cases()), sorted(values_functions()))


@pytest.mark.slow
def test_probe_catches_a_renamed_answer(tmp_path):
    """The probe itself, on a tiny notebook that defines renamed answers (no lecture)."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "from course import runtime\nruntime.configure()\n"
        "import keras\nimport numpy as np\nfrom keras import layers\n"
        "def my_net(input_shape, num_classes):\n"
        "    m = keras.Sequential([keras.Input(input_shape), layers.Flatten(),"
        " layers.Dense(num_classes)])\n"
        "    m.compile(optimizer='adam', loss='mse')\n    return m\n"
        "def rule(X, y, epochs=20, learning_rate=0.1):\n"
        "    w, b = np.zeros(X.shape[1]), 0.0\n"
        "    for _ in range(epochs):\n"
        "        for x, t in zip(X, y):\n"
        "            e = t - int(x @ w + b > 0)\n"
        "            w, b = w + learning_rate * e * x, b + learning_rate * e\n"
        "    return w, b\n"
        "def lookup(q, k, v):\n"
        "    s = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])\n"
        "    w = np.exp(s - s.max(-1, keepdims=True))\n"
        "    return w / w.sum(-1, keepdims=True) @ v\n"
        "def pool(x):\n"
        "    return keras.ops.convert_to_numpy(keras.layers.MaxPooling2D(2)(x))\n"
        "def gan_d(r, f):\n"
        "    return float(np.mean(np.r_[np.logaddexp(0, -r), np.logaddexp(0, f)]))\n"
        "def grads(X, y, W1, b1, W2, b2):\n"
        "    h = np.tanh(X @ W1 + b1)\n"
        "    dz = (1 / (1 + np.exp(-(h @ W2 + b2))) - y[:, None]) / len(X)\n"
        "    da = dz @ W2.T * (1 - h ** 2)\n"
        "    return X.T @ da, da.sum(0), h.T @ dz, dz.sum(0)\n"
        "def harmless(n):\n    return n + 1\n"),
        nbformat.v4.new_code_cell(probe_source())]
    nb, _ = execute.execute_notebook(nb, workdir=tmp_path)
    found = _probe_report(nb)
    assert any(f.startswith("my_net passes cnn") for f in found), found
    assert any(f.startswith("my_net passes rnn") for f in found), found
    assert "rule passes the checks for perceptron_fit" in found, found
    assert "lookup passes the checks for scaled_dot_product_attention" in found, found
    assert "pool passes the checks for max_pool2d" in found, found
    assert "gan_d passes the checks for discriminator_loss" in found, found
    assert "grads passes the checks for mlp_backward" in found, found
    assert not any(f.startswith("harmless") for f in found), found


def _probe_report(nb) -> list[str]:
    text = "".join(o.get("text", "") for o in nb.cells[-1].outputs if o.output_type == "stream")
    lines = [line for line in text.splitlines() if line.startswith("PROBE ")]
    assert lines, f"the probe printed nothing: {text[-2000:]}"
    return json.loads(lines[-1][len("PROBE "):])


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("stem", STEMS)
def test_lecture_runs(stem, backend, tmp_path, capsys):
    """Executes the lecture in a fresh kernel on ``backend`` (its asserts pin its claims), then
    probes every function it defined against the assignments' visible checks."""
    if importlib.util.find_spec({"torch": "torch", "jax": "jax"}.get(backend, backend)) is None:
        pytest.skip(f"{backend} is not installed")
    nb = lectures.to_notebook(stem)
    nb.cells.append(nbformat.v4.new_code_cell(probe_source()))
    nb, seconds = execute.execute_notebook(nb, backend=backend, workdir=tmp_path)
    with capsys.disabled():
        print(f"\n{stem}: executed in {seconds:.1f} s ({backend})")
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any("image/png" in o.get("data", {}) for o in outputs), f"{stem} drew no figure"
    assert _probe_report(nb) == [], f"{stem} defines an assignment's answer under another name"
    assert seconds < SECONDS_LIMIT, f"{stem} took {seconds:.0f} s on {backend}"
    if backend == "tensorflow":  # the page `course lectures --execute` writes, plots included
        page = execute.to_html(nb)
        assert page.count("data:image/png;base64") >= 2 and "Self-check questions" in page
