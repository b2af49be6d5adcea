"""Classifier: parity with the CLI, batches, threads, errors, persistence."""

import csv
import re
import pickle
import threading

import pytest

import logclf
from conftest import run_cli


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def cli_explained(cli, seed, tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "explained.csv"
    run_cli(cli, "classify", seed, "--explain", "-q", "-o", out)
    return read_csv(out)


def test_parity_with_cli_on_the_seed_data(builtin, seed, cli_explained):
    rows = read_csv(seed)
    assert len(rows) == len(cli_explained) > 2000
    results = builtin.classify_batch([r["log_message"] for r in rows], [r["source"] for r in rows])
    stages = set()
    for row, result, expected in zip(rows, results, cli_explained):
        assert expected["log_message"] == row["log_message"]
        got = (result.label, result.stage, result.rule or "", f"{result.confidence:.4f}")
        assert got == (expected["predicted_label"], expected["stage"], expected["rule"], expected["confidence"]), row
        stages.add(result.stage)
    assert {"rule", "model"} <= stages


def test_single_and_batch_agree_with_every_cache(builtin, seed):
    rows = read_csv(seed)[:400]
    messages = [r["log_message"] for r in rows]
    sources = [r["source"] for r in rows]
    single = [builtin.classify(m, s) for m, s in zip(messages, sources)]
    for cache in ("off", "exact", "template"):
        batch = builtin.classify_batch(messages, sources, cache=cache)
        assert [r.label for r in batch] == [r.label for r in single], cache
    off = builtin.classify_batch(messages, sources, cache="off")
    assert [(r.stage, r.rule, r.confidence) for r in off] == [(r.stage, r.rule, r.confidence) for r in single]


def test_result_fields(builtin):
    rule = builtin.classify("Backup completed successfully.")
    assert (rule.stage, rule.confidence, rule.probabilities) == ("rule", 1.0, {})
    assert rule.rule and rule.label in builtin.labels
    model = builtin.classify("Email service experiencing issues with sending")
    assert model.stage in ("model", "uncertain") and model.rule is None
    probabilities = model.probabilities
    assert list(probabilities) == builtin.labels
    assert sum(probabilities.values()) == pytest.approx(1.0, abs=1e-5)
    assert max(probabilities.values()) == pytest.approx(model.confidence, abs=1e-6)
    if model.stage == "model":
        assert max(probabilities, key=probabilities.get) == model.label
    assert builtin.classify_batch(["Email service experiencing issues with sending"], probabilities=False)[0].probabilities == {}


def test_threshold_is_settable():
    clf = logclf.Classifier.load()
    message = "Email service experiencing issues with sending"
    before = clf.classify(message)
    assert before.stage == "model"
    clf.threshold = min(1.0, before.confidence + 0.01)
    assert clf.threshold == pytest.approx(before.confidence + 0.01)
    after = clf.classify(message)
    assert (after.label, after.stage) == ("Uncertain", "uncertain")
    assert clf.classify_batch([message])[0].label == "Uncertain"  # the cache does not keep the old answer
    assert logclf.Classifier.load().classify(message).label == before.label  # other instances keep theirs


def test_threads_classify_concurrently(builtin, seed):
    rows = read_csv(seed)
    messages = [r["log_message"] for r in rows]
    sources = [r["source"] for r in rows]
    expected = [(r.label, r.stage, r.confidence) for r in builtin.classify_batch(messages, sources, cache="off")]
    clf = logclf.Classifier.load()
    failures, barrier = [], threading.Barrier(4)

    def work(cache):
        barrier.wait()
        for _ in range(3):
            got = [(r.label, r.stage, r.confidence) for r in clf.classify_batch(messages, sources, cache=cache)]
            if got != expected:
                failures.append(cache)

    # (The template cache may give a line the confidence of an earlier line of its template: not compared.)
    threads = [threading.Thread(target=work, args=(c,)) for c in ("exact", "exact", "off", "off")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []


def test_gil_is_released_during_a_batch(builtin):
    # Another Python thread makes progress while a long batch runs.
    messages = ["Disk usage at 91% on /dev/sda1 of host 17"] * 200000
    ticks = []
    stop = threading.Event()

    def ticker():
        while not stop.is_set():
            ticks.append(1)
            stop.wait(0.001)

    t = threading.Thread(target=ticker)
    t.start()
    before = len(ticks)
    builtin.classify_batch(messages, cache="off", probabilities=False)
    during = len(ticks) - before
    stop.set()
    t.join()
    assert during > 5


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda c: c.classify_batch(["a", 3]), "messages[1] is int"),
        (lambda c: c.classify_batch(["a", "b"], ["x"]), "sources has 1 items"),
        (lambda c: c.classify_batch(["a"], cache="lru"), "cache must be"),
        (lambda c: setattr(c, "threshold", 1.5), "threshold must be between 0 and 1"),
        (lambda c: logclf.Classifier.load("/nonexistent/model"), "/nonexistent/model"),
        (lambda c: logclf.Classifier.load(None, precision="fp16"), "precision"),
    ],
)
def test_bad_input_raises_logclf_error(call, message):
    clf = logclf.Classifier.load()
    with pytest.raises(logclf.Error, match=re.escape(message)) as caught:
        call(clf)
    assert isinstance(caught.value, ValueError)


def test_save_load_and_pickle_keep_every_answer(builtin, seed, tmp_path):
    rows = read_csv(seed)[:300]
    messages = [r["log_message"] for r in rows]
    clf = logclf.Classifier.load()
    clf.threshold = 0.7
    clf.save(str(tmp_path / "model"))
    loaded = logclf.Classifier.load(str(tmp_path / "model"))
    unpickled = pickle.loads(pickle.dumps(clf))
    from_bytes = logclf.Classifier.from_bytes(clf.to_bytes())
    expected = [(r.label, r.stage, r.confidence) for r in clf.classify_batch(messages)]
    for other in (loaded, unpickled, from_bytes):
        assert other.threshold == 0.7 and other.labels == clf.labels
        assert [(r.label, r.stage, r.confidence) for r in other.classify_batch(messages)] == expected


def test_any_iterable_of_str(builtin, seed_frame):
    frame = seed_frame.iloc[::-1].head(50)  # a Series whose index is not 0..n-1
    expected = [r.label for r in builtin.classify_batch(list(frame["log_message"]), list(frame["source"]))]
    assert [r.label for r in builtin.classify_batch(frame["log_message"], frame["source"])] == expected
    assert [r.label for r in builtin.classify_batch(m for m in frame["log_message"].tolist())] == [
        r.label for r in builtin.classify_batch(frame["log_message"].tolist())]
    assert builtin.classify_batch([]) == []
