"""train() and evaluate(): the CLI's numbers, from a path, a DataFrame or a list of dicts."""

import json
import re

import pytest

import logclf
from conftest import run_cli

# Fixed C: the cross-validation choosing it is the slow part of training and is the CLI's own code.
FAST = dict(C=100.0)


@pytest.fixture(scope="module")
def trained(seed):
    return logclf.train(str(seed), **FAST)


def test_train_report(trained):
    model, report = trained
    assert isinstance(model, logclf.Classifier)
    assert report["rows"] == report["rows_excluded"] + report["rows_rule_matched"] + report["rows_train"] + report["rows_test"]
    assert report["rows_test"] > 0 and report["C"] == 100.0 and report["labels"] == model.labels
    held_out = report["held_out"]
    assert held_out["total"] == report["rows_test"]
    assert 0.9 < held_out["accuracy"] <= 1.0
    assert report["held_out_head"]["total"] == report["rows_test"]
    assert 0 <= report["held_out_calibration"]["ece"] < 0.1
    assert all({"name", "label", "matched", "correct", "status", "kept"} <= set(r) for r in report["rules"])


def test_train_matches_the_cli(trained, cli, seed, tmp_path):
    model, report = trained
    out = run_cli(cli, "train", seed, "-o", tmp_path / "cli-model", "--C", "100")
    assert f"{report['rows_train']} train, {report['rows_test']} held out" in out
    cli_model = logclf.Classifier.load(str(tmp_path / "cli-model"))
    assert cli_model.labels == model.labels
    messages = [
        "Email service experiencing issues with sending", "Disk usage at 91% on /dev/sda1",
        "Unauthorized access attempt from 10.0.0.1", "Shipment of order 99 was delayed"]
    ours = [(r.label, r.confidence) for r in model.classify_batch(messages)]
    theirs = [(r.label, r.confidence) for r in cli_model.classify_batch(messages)]
    assert ours == theirs
    pipeline_accuracy = re.search(r"accuracy\s+([0-9.]+)", out.split("held-out report (the pipeline")[1]).group(1)
    assert f"{report['held_out']['accuracy']:.2f}" == pipeline_accuracy


def test_dataframe_and_dicts_train_like_the_file(trained, seed_frame):
    _, from_file = trained
    _, from_frame = logclf.train(seed_frame, **FAST)
    _, from_dicts = logclf.train(seed_frame.to_dict("records"), **FAST)
    for report in (from_frame, from_dicts):
        for key in ("rows", "rows_rule_matched", "rows_train", "rows_test", "C", "temperature", "held_out", "rules"):
            assert report[key] == from_file[key], key


def test_evaluate_matches_the_cli_json(trained, cli, seed, tmp_path):
    model, _ = trained
    model.save(str(tmp_path / "model"))
    for args, ours in (
        ([], logclf.evaluate(str(seed))),
        (["-m", tmp_path / "model"], logclf.evaluate(str(seed), model)),
        (["-m", tmp_path / "model", "--threshold", "0.9"], logclf.evaluate(seed, str(tmp_path / "model"), threshold=0.9)),
        (["--cache", "template"], logclf.evaluate(str(seed), cache="template")),
    ):
        theirs = json.loads(run_cli(cli, "evaluate", seed, "--json", *args))
        assert ours == theirs, args
    assert theirs["hybrid"]["accuracy"] > 0.95


def test_evaluate_in_memory_data(seed, seed_frame):
    from_file = logclf.evaluate(str(seed))
    assert logclf.evaluate(seed_frame) == from_file
    assert logclf.evaluate(seed_frame.to_dict("records")) == from_file


def test_a_source_filter_in_given_rules(tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  - name: legacy-escalation\n    pattern: 'escalation'\n    label: Workflow Error\n"
                     "    sources: [LegacyCRM]\n")
    rows = [{"log_message": f"Case escalation {i} failed", "source": "LegacyCRM", "target_label": "Workflow Error"}
            for i in range(5)]
    rows += [{"log_message": f"disk {i} is full", "target_label": "Resource Usage"} for i in range(10)]
    rows += [{"log_message": f"user {i} logged in", "target_label": "User Action"} for i in range(10)]
    model, report = logclf.train(rows, rules=str(rules), test_size=0, C=1.0, allow_new_labels=True)
    assert [r["matched"] for r in report["rules"]] == [5]
    legacy = model.classify("Case escalation 7 failed", "LegacyCRM")
    assert (legacy.stage, legacy.rule) == ("rule", "legacy-escalation")
    assert model.classify("Case escalation 7 failed", "ModernCRM").stage != "rule"
    assert model.classify_batch(["Case escalation 7 failed"] * 2, ["LegacyCRM", None])[1].stage != "rule"


@pytest.mark.parametrize(
    "data, kwargs, message",
    [
        ([{"log_message": "a"}], {}, "no label field 'target_label'"),
        ([{"text": "a", "target_label": "x"}], {}, "row 0: no message field"),
        ([], {}, "no rows to train on"),
        ("/nonexistent.csv", {}, "/nonexistent.csv"),
        ([{"log_message": "a", "target_label": "x"}], {"C": "big"}, "C must be"),
        ([{"log_message": "a", "target_label": "x"}], {"class_weight": "even"}, "class_weight"),
        ([{"log_message": "a", "target_label": "x"}], {"rules": "/nonexistent.yaml"}, "/nonexistent.yaml"),
        (["not a dict"], {}, "row 0: a mapping"),
    ],
)
def test_bad_training_input_raises_logclf_error(data, kwargs, message):
    with pytest.raises(logclf.Error) as caught:
        logclf.train(data, **kwargs)
    assert message in str(caught.value)


def test_bad_evaluation_input_raises_logclf_error(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("log_message,target_label\n\"unterminated,x\n")
    with pytest.raises(logclf.Error, match="bad.csv"):
        logclf.evaluate(str(bad))
    with pytest.raises(logclf.Error, match="cache must be"):
        logclf.evaluate([{"log_message": "a", "target_label": "x"}], cache="lru")
