"""E5-small-v2 from Python: logclf.embed and the built-in E5 model, against the CLI (real weights)."""

import csv
import json

import numpy as np
import pytest

import logclf
from conftest import run_cli

TEXTS = ["Backup completed successfully.", "Disk usage at 91% on /dev/sda1", "User 12 logged in", "", "Ünïcode ✓"]


def test_embed_matches_the_cli(e5_dir, cli, tmp_path):
    texts_file = tmp_path / "texts.txt"
    texts_file.write_text("\n".join(TEXTS) + "\n", encoding="utf-8")
    ours = logclf.embed(TEXTS, str(e5_dir), prefix="passage: ")
    assert ours.dtype == np.float32 and ours.shape == (len(TEXTS), 384)
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    out = run_cli(cli, "embed", "--prefix", "passage: ", "--encoder-dir", e5_dir, texts_file)
    theirs = np.array([json.loads(line) for line in out.splitlines()], dtype=np.float32)
    np.testing.assert_allclose(ours, theirs, atol=1e-6)
    # Exactly as given: the prefix changes the vector.
    assert not np.allclose(logclf.embed(TEXTS[:1], str(e5_dir))[0], ours[0], atol=1e-3)


def test_embed_errors(e5_dir, tmp_path):
    with pytest.raises(logclf.Error, match=str(tmp_path)):
        logclf.embed(["a"], str(tmp_path))
    with pytest.raises(logclf.Error):
        logclf.embed("one string", str(e5_dir))
    assert logclf.embed([], str(e5_dir)).shape == (0, 384)


def test_builtin_e5_model_matches_the_cli(e5_dir, cli, seed, tmp_path):
    with open(seed, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    # Lines no built-in rule decides (both built-in models have the same rules), so that the encoder runs; a
    # small sample keeps the test quick.
    rules = logclf.Classifier.load()
    picked = [r for r in rows if rules.classify(r["log_message"], r["source"]).stage != "rule"][:40]
    model = logclf.Classifier.load(None, str(e5_dir), encoder="e5-small-v2")
    assert model.encoder == "e5-small-v2" and model.rules == rules.rules
    sample = tmp_path / "sample.csv"
    with open(sample, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=["source", "log_message"])
        writer.writeheader()
        writer.writerows({"source": r["source"], "log_message": r["log_message"]} for r in picked)
    out = tmp_path / "out.csv"
    run_cli(cli, "classify", sample, "--explain", "-q", "-o", out, "--encoder", "e5-small-v2", "--encoder-dir", e5_dir)
    with open(out, newline="", encoding="utf-8") as f:
        expected = list(csv.DictReader(f))
    results = model.classify_batch([r["log_message"] for r in picked], [r["source"] for r in picked])
    assert [(r.label, r.stage, f"{r.confidence:.4f}") for r in results] == [
        (e["predicted_label"], e["stage"], e["confidence"]) for e in expected]
