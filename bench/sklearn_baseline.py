#!/usr/bin/python3
"""scikit-learn baseline: TF-IDF (char_wb 3-5 + word 1-2, sublinear tf) -> LogisticRegression.

  /usr/bin/python3 bench/sklearn_baseline.py TRAIN.csv TEST.csv [--class-weight none|balanced] [--json OUT.json]

Reads log_message / target_label (--message-column / --label-column). Features: the union of
TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True) and
TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True) (each L2-normalised, scikit-learn
defaults otherwise: lowercase, min_df=1); head: LogisticRegression(C=1.0, max_iter=1000), default otherwise
(lbfgs, no class weights; --class-weight balanced gives logclf's default weighting). Prints accuracy, macro F1
(over the labels present in the test truth or predictions, as sklearn does) and the classification_report.
Needs Debian's python3-sklearn (apt-get install -y python3-sklearn); run it with /usr/bin/python3.
"""
import argparse
import csv
import json
import sys
import time


def read(path, msg_col, lab_col):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return [r[msg_col] for r in rows], [r[lab_col] for r in rows]


def make_tfidf():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion
    return FeatureUnion([
        ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)),
        ("word", TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True)),
    ])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("train")
    ap.add_argument("test")
    ap.add_argument("--class-weight", choices=["none", "balanced"], default="none")
    ap.add_argument("--message-column", default="log_message")
    ap.add_argument("--label-column", default="target_label")
    ap.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    a = ap.parse_args()
    try:
        import sklearn
        from sklearn.linear_model import LogisticRegression
        from sklearn.metrics import accuracy_score, classification_report, f1_score
        from sklearn.pipeline import make_pipeline
    except ImportError:
        sys.exit("sklearn_baseline: scikit-learn is missing: apt-get install -y python3-sklearn; "
                 "run with /usr/bin/python3")

    xtr, ytr = read(a.train, a.message_column, a.label_column)
    xte, yte = read(a.test, a.message_column, a.label_column)
    cw = None if a.class_weight == "none" else "balanced"
    model = make_pipeline(make_tfidf(), LogisticRegression(C=1.0, max_iter=1000, class_weight=cw))
    t0 = time.perf_counter()
    model.fit(xtr, ytr)
    t1 = time.perf_counter()
    pred = model.predict(xte)
    t2 = time.perf_counter()
    acc = accuracy_score(yte, pred)
    f1 = f1_score(yte, pred, average="macro", zero_division=0)
    nfeat = len(model.steps[0][1].get_feature_names_out())
    print(f"scikit-learn {sklearn.__version__} TF-IDF(char_wb 3-5 + word 1-2, sublinear) -> "
          f"LogisticRegression(C=1, max_iter=1000, class_weight={cw})")
    print(f"train {a.train}: {len(xtr)} rows, {nfeat} features; test {a.test}: {len(xte)} rows")
    print(f"fit {t1 - t0:.2f} s, predict {t2 - t1:.2f} s")
    print(f"accuracy {acc:.4f}  macro F1 {f1:.4f}")
    print()
    print(classification_report(yte, pred, digits=4, zero_division=0))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"accuracy": acc, "macro_f1": f1, "train_rows": len(xtr), "test_rows": len(xte),
                       "features": nfeat, "fit_seconds": t1 - t0, "predict_seconds": t2 - t1,
                       "class_weight": a.class_weight, "sklearn": sklearn.__version__}, f, indent=1)


if __name__ == "__main__":
    main()
