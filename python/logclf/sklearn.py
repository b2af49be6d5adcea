"""logclf.LogClassifier: the classifier as a scikit-learn estimator over text (one str per sample)."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from . import Error, _bundle_bytes, _from_bundle_bytes, train


def _texts(X) -> list[str]:
    """One str per sample: a list, a 1-d array or Series, or a 2-d array of one column."""
    if isinstance(X, str):
        raise Error("X must be a sequence of str (one message per sample), not one str")
    array = np.asarray(X, dtype=object)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise Error(f"X must hold one message per sample (1-d), not an array of shape {array.shape}")
    texts = array.tolist()
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise Error(f"X[{i}] is {type(text).__name__}, not str")
    return texts


class LogClassifier(ClassifierMixin, BaseEstimator):
    """logclf's hybrid classifier as a scikit-learn estimator: ``fit(X, y)`` with X a sequence of messages.

    fit() trains on every sample (as ``logclf train --test-size 0``): the built-in rules whose labels are
    among y, then the lexical (or E5) encoder and a logistic-regression head, calibrated. The parameters are
    those of logclf.train(). ``threshold`` is 0 by default so that predict() always answers one of
    ``classes_``, as scikit-learn expects; with a threshold, lines below it are predicted 'Uncertain'.
    Labels may be of any type; the model sees them as str. Pickles as the model bundle's bytes.
    """

    def __init__(self, C="auto", class_weight="balanced", calibration="temperature", max_iter=1000, threshold=0.0,
                 all_rows=False, rules=None, cv_folds=0, encoder="lexical", encoder_dir=None):
        self.C = C
        self.class_weight = class_weight
        self.calibration = calibration
        self.max_iter = max_iter
        self.threshold = threshold
        self.all_rows = all_rows
        self.rules = rules
        self.cv_folds = cv_folds
        self.encoder = encoder
        self.encoder_dir = encoder_dir

    def fit(self, X, y, sources=None):
        """Trains on messages X with labels y (and optionally one source per message)."""
        texts = _texts(X)
        y = np.asarray(y)
        if y.ndim != 1 or len(y) != len(texts):
            raise Error(f"y must hold one label per sample: {len(texts)} samples, y of shape {y.shape}")
        self.classes_ = np.unique(y)
        if len(self.classes_) < 2:
            raise Error(f"fit needs at least 2 labels, y has {len(self.classes_)}")
        names = [str(c) for c in self.classes_]
        if len(set(names)) != len(names):
            raise Error("two labels of y have the same text")
        self._label_of = dict(zip(names, self.classes_))
        if sources is None:
            sources = [None] * len(texts)
        rows = [{"log_message": t, "source": s, "target_label": str(label)} for t, s, label in zip(texts, sources, y)]
        self.model_, self.report_ = train(
            rows, test_size=0, C=self.C, class_weight=self.class_weight, calibration=self.calibration,
            max_iter=self.max_iter, threshold=self.threshold, all_rows=self.all_rows, rules=self.rules,
            cv_folds=self.cv_folds, encoder=self.encoder, encoder_dir=self.encoder_dir)
        return self

    def _results(self, X, sources=None, probabilities=False):
        return self.model_.classify_batch(_texts(X), sources, probabilities=probabilities)

    def predict(self, X, sources=None):
        """The label of each message (one of classes_, or 'Uncertain' below a threshold)."""
        check_is_fitted(self, "model_")
        labels = [self._label_of.get(r.label, r.label) for r in self._results(X, sources)]
        dtype = self.classes_.dtype if all(r in self._label_of.values() for r in labels) else object
        return np.asarray(labels, dtype=dtype)

    def predict_proba(self, X, sources=None):
        """Probabilities in classes_ order: the head's (calibrated) distribution, or all on the rule's label when
        a rule decided."""
        check_is_fitted(self, "model_")
        index = {str(c): i for i, c in enumerate(self.classes_)}
        results = self._results(X, sources, probabilities=True)
        out = np.zeros((len(results), len(self.classes_)))
        for row, r in enumerate(results):
            if r.stage == "rule":
                if r.label in index:  # a rule-only label (rules given with allow_new_labels) has no column
                    out[row, index[r.label]] = 1.0
                continue
            for label, p in r.probabilities.items():
                out[row, index[label]] = p
        return out

    def __getstate__(self):
        state = self.__dict__.copy()
        if "model_" in state:
            state["model_"] = _bundle_bytes(state["model_"])
        return state

    def __setstate__(self, state):
        if isinstance(state.get("model_"), bytes):
            state["model_"] = _from_bundle_bytes(state["model_"], state.get("encoder_dir"))
        self.__dict__.update(state)

    def _more_tags(self):
        return {"X_types": ["string"], "requires_y": True}
