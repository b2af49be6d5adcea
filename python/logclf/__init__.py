"""logclf: a hybrid log classifier (rules, then an encoder + logistic-regression head, then a threshold).

The classification runs in logclf's C++ library (the native module ``logclf._logclf``); this package
converts Python data to it and back.

    >>> import logclf
    >>> clf = logclf.Classifier.load()                  # the built-in model
    >>> clf.classify("Backup completed successfully.").label
    >>> model, report = logclf.train("labelled.csv")    # a path, a pandas DataFrame or a list of dicts
    >>> logclf.evaluate("labelled.csv", model)["hybrid"]["accuracy"]

Errors from the library are raised as ``logclf.Error`` (a ``ValueError``) with its message.
"""

from __future__ import annotations

import io
import os
import tarfile
import tempfile
from typing import Any, Iterable, Mapping, Sequence

from ._logclf import Classifier, Error, Result, __version__
from . import _logclf

__all__ = ["Classifier", "Result", "Error", "train", "evaluate", "embed", "LogClassifier", "__version__"]

# The fields a message is read from in Python data (dicts, DataFrame columns), first present wins: as the CLI
# reads JSON lines.
MESSAGE_FIELDS = ("log_message", "message", "log", "msg")


def _bundle_bytes(classifier: Classifier) -> bytes:
    """The model bundle as the bytes of an uncompressed tar archive of its files."""
    with tempfile.TemporaryDirectory(prefix="logclf-") as tmp:
        bundle = os.path.join(tmp, "model")
        classifier.save(bundle)
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            for name in sorted(os.listdir(bundle)):
                tar.add(os.path.join(bundle, name), arcname=name)
        return buffer.getvalue()


def _from_bundle_bytes(data: bytes, encoder_dir: str | None = None) -> Classifier:
    """A classifier from the bytes Classifier.to_bytes() gave."""
    with tempfile.TemporaryDirectory(prefix="logclf-") as tmp:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r") as tar:
            for member in tar.getmembers():
                if not member.isfile() or os.path.basename(member.name) != member.name:
                    raise Error(f"model bytes: unexpected entry {member.name!r}")
            tar.extractall(tmp)
        return Classifier.load(tmp, encoder_dir)


def _classifier_reduce(self: Classifier):
    return (_from_bundle_bytes, (_bundle_bytes(self),))


# Shown (help(), repr, tracebacks) as the package's own.
for _type in (Classifier, Result, Error):
    _type.__module__ = __name__

Classifier.to_bytes = _bundle_bytes
Classifier.to_bytes.__doc__ = "The model bundle as bytes (a tar archive of its files); Classifier.from_bytes() reads them."
Classifier.from_bytes = staticmethod(_from_bundle_bytes)
Classifier.__reduce__ = _classifier_reduce
Classifier.__repr__ = lambda self: (
    f"<logclf.Classifier: {self.encoder} encoder, {len(self.labels)} labels, threshold {self.threshold:g}>")


def _first_field(names: Iterable[str], fields: Sequence[str] | str | None, where: str = "") -> str:
    names = list(names)
    candidates = MESSAGE_FIELDS if fields is None else ((fields,) if isinstance(fields, str) else tuple(fields))
    for field in candidates:
        if field in names:
            return field
    raise Error(f"{where}no message field: looked for {', '.join(candidates)} among {', '.join(map(str, names)) or 'none'}")


def _optional_str(value: Any) -> str | None:
    # pandas gives NaN (a float) for a missing value.
    return value if isinstance(value, str) else None


def _labeled_rows(data: Any, message_column, source_column: str, label_column: str) -> list[tuple]:
    """(message, source, label) tuples from a pandas DataFrame or a sequence of mappings."""
    if hasattr(data, "columns") and hasattr(data, "itertuples"):  # a pandas DataFrame
        columns = [str(c) for c in data.columns]
        message = _first_field(columns, message_column)
        if label_column not in columns:
            raise Error(f"no label column {label_column!r} among {', '.join(columns)}")
        messages = data[message].tolist()
        labels = data[label_column].tolist()
        sources = data[source_column].tolist() if source_column in columns else [None] * len(messages)
        return [(m, _optional_str(s), l) for m, s, l in zip(messages, sources, labels)]
    rows = []
    for i, record in enumerate(data):
        if not isinstance(record, Mapping):
            raise Error(f"row {i}: a mapping (dict) was expected, not {type(record).__name__}")
        message = _first_field(record.keys(), message_column, f"row {i}: ")
        if label_column not in record:
            raise Error(f"row {i}: no label field {label_column!r}")
        rows.append((record[message], _optional_str(record.get(source_column)), record[label_column]))
    return rows


def _data_arguments(data: Any, message_column, source_column: str, label_column: str):
    """The native functions take a path (read by the library, as the CLI reads it) or row tuples."""
    if isinstance(data, os.PathLike):
        data = os.fspath(data)
    if isinstance(data, str):
        columns = None if message_column is None else ([message_column] if isinstance(message_column, str) else list(message_column))
        return data, columns
    return _labeled_rows(data, message_column, source_column, label_column), None


def train(
    data: Any,
    *,
    test_size: float = 0.3,
    seed: int = 42,
    refit: bool = False,
    all_rows: bool = False,
    rules: str | os.PathLike | None = None,
    allow_new_labels: bool = False,
    min_rule_precision: float = 0.9,
    keep_all_rules: bool = False,
    mine_rules: int = 0,
    use_mined_rules: bool = False,
    exclude_sources: Sequence[str] = (),
    C: float | str = "auto",
    cv_folds: int = 0,
    calibration: str = "temperature",
    max_iter: int = 1000,
    class_weight: str = "balanced",
    threshold: float = 0.5,
    encoder: str = "lexical",
    encoder_dir: str | None = None,
    precision: str = "auto",
    threads: int = 0,
    format: str | None = None,
    message_column: str | Sequence[str] | None = None,
    source_column: str = "source",
    label_column: str = "target_label",
    data_name: str | None = None,
) -> tuple[Classifier, dict]:
    """Trains a classifier, as ``logclf train`` does; returns (classifier, report).

    data: a path to a labelled file (CSV, JSON lines; read as the CLI reads it), a pandas DataFrame, or a
    sequence of dicts, with the message (``log_message``, or ``message``, ``log``, ``msg``, or
    ``message_column``), the label (``target_label``) and optionally the source (``source``).

    The keyword arguments are the CLI's options (``logclf train --help``): ``C`` a number or 'auto'
    (cross-validated), ``rules`` a rules file (default: the built-in rules whose labels are in the data),
    ``encoder`` 'lexical' or 'e5-small-v2' (weights in ``encoder_dir``, ``$LOGCLF_E5_DIR`` or the Hugging Face
    cache). The report holds the row counts, the chosen C and temperature, the rules with their precision
    on the training rows, and on the held-out rows (None when ``test_size`` is 0) the pipeline's report
    (``held_out``, through the threshold), the head's alone (``held_out_head``) and the calibration's.
    The training runs without the GIL.
    """
    if isinstance(C, str):
        if C != "auto":
            raise Error(f"C must be a positive number or 'auto', not {C!r}")
        C = None
    if data_name is None:
        data_name = os.path.basename(os.fspath(data)) if isinstance(data, (str, os.PathLike)) else "python"
    data, columns = _data_arguments(data, message_column, source_column, label_column)
    return _logclf._train(
        data, format, columns, source_column, label_column, data_name, test_size, seed, refit, all_rows,
        None if rules is None else os.fspath(rules), allow_new_labels, min_rule_precision, keep_all_rules,
        mine_rules, use_mined_rules, list(exclude_sources), C, cv_folds, calibration, max_iter, class_weight,
        threshold, encoder, encoder_dir, precision, threads)


def evaluate(
    data: Any,
    model: Classifier | str | os.PathLike | None = None,
    *,
    threshold: float | None = None,
    cache: str = "off",
    encoder_dir: str | None = None,
    format: str | None = None,
    message_column: str | Sequence[str] | None = None,
    source_column: str = "source",
    label_column: str = "target_label",
) -> dict:
    """Evaluates a classifier on labelled data; returns what ``logclf evaluate --json`` prints, as a dict.

    data: as for train(). model: a Classifier, a bundle directory, or None for the built-in model.
    The dict has ``total``, ``stages`` (rule, model, uncertain), ``hybrid`` (the pipeline's report:
    ``accuracy``, ``per_label``, ``macro_avg``, ``weighted_avg``, ``confusion``), ``rules`` and, when the
    head decided lines, ``model`` and ``model_calibration``.
    """
    if not isinstance(model, Classifier):
        model = Classifier.load(None if model is None else os.fspath(model), encoder_dir)
    data, columns = _data_arguments(data, message_column, source_column, label_column)
    return _logclf._evaluate(model, data, format, columns, source_column, label_column, threshold, cache)


_encoders: dict = {}


def embed(
    texts: Sequence[str],
    encoder_dir: str | None = None,
    *,
    prefix: str = "",
    precision: str = "auto",
    threads: int = 0,
):
    """E5-small-v2 sentence vectors: a float32 numpy array of shape (len(texts), 384), L2-normalised.

    Texts are taken as given after ``prefix`` (E5 expects 'passage: ' or 'query: '). The weights are found
    in ``encoder_dir``, ``$LOGCLF_E5_DIR`` or the Hugging Face cache; loaded once per (directory, precision,
    threads). The forward pass runs without the GIL, on ``threads`` threads (0: all cores).
    """
    key = (encoder_dir, precision, threads)
    encoder = _encoders.get(key)
    if encoder is None:
        encoder = _encoders[key] = _logclf._SentenceEncoder(encoder_dir, precision, threads)
    if isinstance(texts, str):
        raise Error("texts must be a sequence of str, not one str")
    return encoder.embed(list(texts), prefix)


def __getattr__(name: str):
    # The estimator needs scikit-learn, imported only when it is used.
    if name == "LogClassifier":
        from .sklearn import LogClassifier

        return LogClassifier
    raise AttributeError(f"module 'logclf' has no attribute {name!r}")
