"""logclf.LogClassifier as a scikit-learn estimator over text."""

import csv
import pickle
import warnings

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")
from sklearn.base import clone  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.model_selection import cross_val_score  # noqa: E402
from sklearn.utils import estimator_checks  # noqa: E402

import logclf  # noqa: E402


@pytest.fixture(scope="module")
def data(seed):
    with open(seed, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    # The LegacyCRM rows carry labels only a few rows have (the original project left them out too).
    rows = [r for r in rows if r["source"] != "LegacyCRM"]
    return [r["log_message"] for r in rows], np.array([r["target_label"] for r in rows])


@pytest.fixture(scope="module")
def fitted(data):
    X, y = data
    return logclf.LogClassifier(C=100.0).fit(X, y)


def test_fit_predict_proba(fitted, data):
    X, y = data
    assert list(fitted.classes_) == sorted(set(y))
    predicted = fitted.predict(X)
    assert predicted.shape == (len(X),) and set(predicted) <= set(fitted.classes_)
    assert fitted.score(X, y) > 0.97
    proba = fitted.predict_proba(X)
    assert proba.shape == (len(X), len(fitted.classes_))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    assert (fitted.classes_[proba.argmax(axis=1)] == predicted).all()
    # The predictions are the underlying classifier's.
    assert list(predicted[:50]) == [r.label for r in fitted.model_.classify_batch(X[:50])]


def test_non_string_labels_come_back_as_given(data):
    X, y = data
    codes = {label: i for i, label in enumerate(sorted(set(y)))}
    y_int = np.array([codes[label] for label in y])
    model = logclf.LogClassifier(C=100.0).fit(X, y_int)
    assert model.classes_.dtype.kind == "i"
    predicted = model.predict(X[:100])
    assert predicted.dtype.kind == "i" and (predicted == y_int[:100]).mean() > 0.95


def test_threshold_gives_uncertain(fitted, data):
    X, _ = data
    strict = clone(fitted).set_params(threshold=1.0).fit(*data)
    assert "Uncertain" in set(strict.predict(X))


def test_params_clone_and_pickle(fitted, data):
    X, _ = data
    params = fitted.get_params()
    assert params["C"] == 100.0 and params["threshold"] == 0.0
    copy = clone(fitted)
    assert copy.get_params() == params and not hasattr(copy, "model_")
    copy.set_params(C=10.0, max_iter=50)
    assert copy.get_params()["C"] == 10.0
    restored = pickle.loads(pickle.dumps(fitted))
    assert isinstance(restored.model_, logclf.Classifier)
    assert (restored.predict(X) == fitted.predict(X)).all()
    np.testing.assert_array_equal(restored.predict_proba(X[:200]), fitted.predict_proba(X[:200]))


def test_unfitted_and_bad_input():
    with pytest.raises(NotFittedError):
        logclf.LogClassifier().predict(["a"])
    with pytest.raises(logclf.Error, match="at least 2 labels"):
        logclf.LogClassifier().fit(["a", "b"], ["x", "x"])
    with pytest.raises(logclf.Error, match="one label per sample"):
        logclf.LogClassifier().fit(["a", "b"], ["x"])
    with pytest.raises(logclf.Error, match=r"X\[1\] is int"):
        logclf.LogClassifier().fit(["a", 1], ["x", "y"])


def test_cross_val_score(data):
    X, y = data
    scores = cross_val_score(logclf.LogClassifier(C=100.0), X, y, cv=3)
    assert scores.shape == (3,) and scores.min() > 0.95


# The scikit-learn checks that apply to an estimator over text, run by name: check_estimator skips every
# check for an estimator whose X_types lack "2darray", and the others build numeric arrays (make_blobs,
# random floats) as X, which a log classifier refuses. The ones among those that matter for text
# (idempotent fit, subset and order invariance, fitted-state checks) are rewritten on text below.
APPLICABLE_CHECKS = [
    "check_no_attributes_set_in_init",
    "check_get_params_invariance",
    "check_set_params",
    "check_parameters_default_constructible",
]


@pytest.mark.parametrize("name", APPLICABLE_CHECKS)
def test_sklearn_estimator_check(name):
    check = getattr(estimator_checks, name, None)
    if check is None:
        pytest.skip(f"scikit-learn {sklearn.__version__} has no {name}")
    with warnings.catch_warnings():
        warnings.simplefilter("error", category=sklearn.exceptions.SkipTestWarning)
        check("LogClassifier", logclf.LogClassifier())


def test_check_estimator_sees_text_input():
    # check_estimator runs no numeric check on it (and says so), rather than failing on numbers.
    with pytest.warns(sklearn.exceptions.SkipTestWarning, match="string"):
        estimator_checks.check_estimator(logclf.LogClassifier())


def test_text_versions_of_the_numeric_checks(fitted, data):
    X, y = data
    X, y = X[::3], y[::3]
    # check_fit_idempotent: fitting again on the same data gives the same model.
    first = clone(fitted).fit(X, y)
    again = first.predict_proba(X)
    np.testing.assert_array_equal(clone(fitted).fit(X, y).predict_proba(X), again)
    # check_methods_subset_invariance and check_methods_sample_order_invariance.
    order = np.random.default_rng(0).permutation(len(X))
    shuffled = [X[i] for i in order]
    np.testing.assert_array_equal(first.predict_proba(shuffled), again[order])
    np.testing.assert_array_equal(first.predict(X[:10]), first.predict(X)[:10])
    # check_fit_check_is_fitted / check_estimators_unfitted.
    with pytest.raises(NotFittedError):
        clone(fitted).predict_proba(X)
