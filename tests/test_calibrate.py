"""`course calibrate`'s judgement: margins, proposals, inseparable cases, exit codes, and the
record it writes into a spec. (Real calibration runs are in tests/calibration_net.py and in
bench/results/calibration/.)"""
from __future__ import annotations

import json
import shutil

from autograder import calibrate, calibration_report
from autograder import spec as specs
from autograder.calibrate import Case, Outcome


def _outcomes(spec, values: dict[str, list[float]], full: dict[str, bool]) -> list[Outcome]:
    check = next(c for c in spec.checks if c.grade_id == "test_cnn_accuracy")
    out = []
    for case, xs in values.items():
        for seed, x in enumerate(xs):
            points = {c.grade_id: c.points for c in spec.checks}
            if not full[case]:
                points[check.grade_id] = 0.0
            score = sum(points.values())
            out.append(Outcome(case, seed, "tensorflow", score, 10.0, points,
                               {check.grade_id: x}, ""))
    return out


CASES = [Case("reference", True, ""), Case("passing/lenet5", True, ""),
         Case("dense_only", False, "")]
THRESHOLD = specs.load("cnn").checks[-1].threshold


def test_a_spec_that_separates_with_margin_holds():
    spec = specs.load("cnn")
    lenet = [THRESHOLD + 0.06, THRESHOLD + 0.08]
    outcomes = _outcomes(spec, {"reference": [0.95, 0.97], "passing/lenet5": lenet,
                                "dense_only": [0.45, 0.5]},
                         {"reference": True, "passing/lenet5": True, "dense_only": False})
    [verdict] = calibrate.judge(spec, CASES, outcomes)
    assert verdict.holds and verdict.separable and verdict.proposal is None
    assert calibrate.exit_code([verdict], outcomes, CASES) == calibrate.HOLDS


def test_a_must_pass_case_too_close_to_the_threshold_gets_a_proposal():
    spec = specs.load("cnn")
    outcomes = _outcomes(spec, {"reference": [0.95, 0.97], "passing/lenet5": [THRESHOLD + 0.005,
                                                                              0.8],
                                "dense_only": [0.45, 0.55]},
                         {"reference": True, "passing/lenet5": True, "dense_only": False})
    [verdict] = calibrate.judge(spec, CASES, outcomes)
    assert not verdict.holds and verdict.separable
    assert 0.55 < verdict.proposal["floor"] < verdict.proposal["threshold"] < THRESHOLD + 0.005
    assert calibrate.exit_code([verdict], outcomes, CASES) == calibrate.PROPOSED


def test_an_accuracy_within_five_points_of_the_threshold_does_not_hold():
    """Issue 17's margin: 0.05 on each side for an accuracy, however narrow the credit band
    (10% of cnn's 0.05-wide band would allow 0.005)."""
    spec = specs.load("cnn")
    for lenet, dense in (([THRESHOLD + 0.04], [0.45, 0.5]), ([0.9], [0.45, THRESHOLD - 0.04])):
        outcomes = _outcomes(spec, {"reference": [0.95], "passing/lenet5": lenet,
                                    "dense_only": dense},
                             {"reference": True, "passing/lenet5": True, "dense_only": False})
        [verdict] = calibrate.judge(spec, CASES, outcomes)
        assert not verdict.holds and verdict.separable
        assert "within 0.050 of the threshold" in " ".join(verdict.notes)


def test_a_mistake_as_good_as_a_textbook_model_is_inseparable():
    spec = specs.load("cnn")
    outcomes = _outcomes(spec, {"reference": [0.95], "passing/lenet5": [0.7],
                                "dense_only": [0.74]},
                         {"reference": True, "passing/lenet5": False, "dense_only": True})
    [verdict] = calibrate.judge(spec, CASES, outcomes)
    assert not verdict.separable and "no threshold separates" in " ".join(verdict.notes)
    assert calibrate.exit_code([verdict], outcomes, CASES) == calibrate.INSEPARABLE


def test_lower_is_better_metrics_are_mirrored():
    v = calibrate.CheckVerdict("fd", "frechet_distance", floor=80, threshold=40,
                               lower_is_better=True, passing=[10, 12], wrong=[90, 120])
    calibrate._decide(v)
    assert v.holds
    v = calibrate.CheckVerdict("fd", "frechet_distance", floor=80, threshold=40,
                               lower_is_better=True, passing=[10, 39], wrong=[90, 120])
    calibrate._decide(v)
    assert not v.holds and v.proposal["floor"] > v.proposal["threshold"] > 39


def test_every_seed_asks_the_sandbox_once_for_identical_calls():
    spec = specs.load("transformer")
    plans = {s: calibrate.pipeline.Plan(spec, grading_seed=s) for s in range(3)}
    merged, keymap = calibrate._merged_calls(plans)
    models = [c for c in merged if c["export"] == "model"]
    assert len(models) == len({c["function"] for c in models})  # one per builder, all seeds
    values = [c for c in merged if c["export"] == "values"]
    assert len(values) == 3 * len([c for c in plans[0].calls if c["export"] == "values"])
    assert all(set(keymap[s]) == {c["key"] for c in plans[s].calls} for s in plans)


def test_runs_merge_and_are_rejudged_without_training(tmp_path):
    """`course calibrate --from`: one run per backend joined into one report, every metric
    re-scored under today's floor and threshold (here the mistake was graded full under an
    older, lower threshold: today it earns nothing, and the run no longer passes it)."""
    import dataclasses

    spec = specs.load("cnn")
    values = {"reference": [0.95, 0.97], "passing/lenet5": [THRESHOLD + 0.06, THRESHOLD + 0.08],
              "dense_only": [0.5, 0.52]}
    files = []
    for backend in ("tensorflow", "jax"):
        outcomes = [dataclasses.replace(o, backend=backend) for o in _outcomes(
            spec, values, {"reference": True, "passing/lenet5": True, "dense_only": True})]
        run = {"spec": spec, "cases": CASES, "seeds": 2, "backends": [backend],
               "outcomes": outcomes, "seconds": 1.0}
        calibration_report.write(run, calibrate.judge(spec, CASES, outcomes), 1,
                                 tmp_path / backend, "course calibrate cnn")
        files.append(tmp_path / backend / "cnn.json")
    merged = calibrate.from_records("cnn", files)
    assert merged["backends"] == ["tensorflow", "jax"] and len(merged["outcomes"]) == 12
    dense = [o for o in merged["outcomes"] if o.case == "dense_only"]
    rest = spec.max_score - spec.check("test_cnn_accuracy").points  # every other check full
    assert all(o.points["test_cnn_accuracy"] == 0.0 and o.score == rest for o in dense)
    verdicts = calibrate.judge(spec, merged["cases"], merged["outcomes"])
    assert calibrate.exit_code(verdicts, merged["outcomes"], merged["cases"]) == calibrate.HOLDS
    kept = calibrate.from_records("cnn", files, only=["reference", "dense_only"])  # --case
    assert [c.name for c in kept["cases"]] == ["reference", "dense_only"]
    assert {o.case for o in kept["outcomes"]} == {"reference", "dense_only"}


def test_seeds_added_to_an_earlier_run_are_named_per_backend(tmp_path):
    """`course calibrate --first-seed 2` then `--from` both runs: the report and the record say
    which seeds each backend was graded on, not the fewest of any one run."""
    import dataclasses

    spec = specs.load("cnn")
    values = {"reference": [0.95, 0.97], "passing/lenet5": [0.9, 0.91], "dense_only": [0.4, 0.5]}
    full = {"reference": True, "passing/lenet5": True, "dense_only": False}
    files = []
    for backend, first in (("jax", 0), ("jax", 2), ("torch", 0)):
        outcomes = [dataclasses.replace(o, backend=backend, seed=o.seed + first)
                    for o in _outcomes(spec, values, full)]
        run = {"spec": spec, "cases": CASES, "seeds": 2, "backends": [backend],
               "outcomes": outcomes, "seconds": 1.0}
        out = tmp_path / f"{backend}{first}"
        calibration_report.write(run, calibrate.judge(spec, CASES, outcomes), 0, out, "c")
        files.append(out / "cnn.json")
    merged = calibrate.from_records("cnn", files)
    assert calibrate.seeds_by_backend(merged["outcomes"]) == {"jax": [0, 1, 2, 3],
                                                              "torch": [0, 1]}
    verdicts = calibrate.judge(spec, merged["cases"], merged["outcomes"])
    report = calibration_report.write(merged, verdicts, 0, tmp_path / "merged", "c")
    assert "grading seeds 0..3 on jax; 0..1 on torch;" in report.read_text()
    assert calibrate.summary(merged, verdicts, 0, report)["seeds_by_backend"]["jax"] == \
        [0, 1, 2, 3]


def test_the_report_and_the_record(tmp_path, monkeypatch):
    spec = specs.load("cnn")
    outcomes = _outcomes(spec, {"reference": [0.95, 0.97],
                                "passing/lenet5": [THRESHOLD + 0.06, THRESHOLD + 0.08],
                                "dense_only": [0.45, 0.5]},
                         {"reference": True, "passing/lenet5": True, "dense_only": False})
    run = {"spec": spec, "cases": CASES, "seeds": 2, "backends": ["tensorflow"],
           "outcomes": outcomes, "seconds": 1.0}
    verdicts = calibrate.judge(spec, CASES, outcomes)
    report = calibration_report.write(run, verdicts, 0, tmp_path, "course calibrate cnn")
    text = report.read_text()
    assert "| `passing/lenet5` | pass |" in text and "2/2" in text and "**holds**" in text
    assert (tmp_path / "cnn.png").read_bytes().startswith(b"\x89PNG")
    saved = json.loads((tmp_path / "cnn.json").read_text())
    assert len(saved["outcomes"]) == 6 and saved["cases"][1]["name"] == "passing/lenet5"
    shutil.copy(specs.SPEC_DIR / "cnn.json", tmp_path / "cnn.json")
    monkeypatch.setattr(specs, "SPEC_DIR", tmp_path)
    before = json.loads((tmp_path / "cnn.json").read_text())
    calibrate.record("cnn", calibrate.summary(run, verdicts, 0, report))
    after = json.loads((tmp_path / "cnn.json").read_text())
    assert after["calibration"]["seeds"] == 2 and after["calibration"]["note"]
    assert {k: v for k, v in after.items() if k != "calibration"} == \
        {k: v for k, v in before.items() if k != "calibration"}
    assert after["calibration"]["checks"]["test_cnn_accuracy"]["holds"] is True


def test_hostile_fixtures_around_a_correct_model_are_not_mistakes():
    names = [c.name for c in calibrate.cases("cnn")]
    assert "tampering" not in names and "dense_only" in names and "wide_dense" in names
    assert names[:3] == ["reference", "passing/lenet5", "passing/mnist_convnet"]


def test_calibrate_refuses_zero_seeds_and_unknown_cases(capsys):
    from autograder import cli

    assert cli.main(["calibrate", "cnn", "--seeds", "0"]) == 2
    assert "--seeds should be at least 1" in capsys.readouterr().err
    assert cli.main(["calibrate", "cnn", "--first-seed", "-1"]) == 2
    assert "--first-seed at least 0, got 5 and -1" in capsys.readouterr().err
    assert cli.main(["calibrate", "cnn", "--case", "lenet"]) == 2
    assert "no case lenet for cnn: expected some of reference, passing/lenet5" in \
        capsys.readouterr().err


def test_a_check_not_judged_for_want_of_its_requirement_is_no_evidence():
    """gan's memorisation counts only when the inception score earns points: a blank generator
    copies nothing (memorisation 0.0, like the reference) yet loses that point through the
    requirement; its 0.0 must not read as a mistake the threshold cannot separate."""
    spec = specs.load("gan")
    memo = next(c for c in spec.checks if c.requires)
    full = {c.grade_id: c.points for c in spec.checks}
    blank = {**full, memo.requires: 0.0, memo.grade_id: 0.0, "test_gan_classes": 0.0}
    outcomes = [Outcome("reference", 0, "tensorflow", 10.0, 10.0, full, {memo.grade_id: 0.0}, ""),
                Outcome("zero_init", 0, "tensorflow", 7.0, 10.0, blank, {memo.grade_id: 0.0}, "")]
    cases = [Case("reference", True, ""), Case("zero_init", False, "")]
    verdict = next(v for v in calibrate.judge(spec, cases, outcomes)
                   if v.grade_id == memo.grade_id)
    assert verdict.holds and verdict.separable and verdict.wrong == []
