#!/usr/bin/python3
"""Stacking experiment (measurement only): would combining E5 and TF-IDF beat either alone?

  /usr/bin/python3 bench/stacking.py [--work DIR] [--sets a,b-all,c,d] [--class-weight none,balanced]

For each set (the files SET-train.csv / SET-test.csv that bench/compare-encoders.sh writes; when they are
missing from --work this script has compare-encoders.sh write them there with PREPARE_ONLY=1, so both see the
identical splits), with scikit-learn, no rules, arg-max (no threshold):
  e5        LogisticRegression(C=1, max_iter=1000) on the E5-small-v2 vectors as logclf computes them
            (`logclf embed --prefix 'passage: '`, unit length) - the features logclf's E5 head sees
  e5-std    the same after StandardScaler (per-dimension unit variance)
  tfidf     bench/sklearn_baseline.py's model: TF-IDF char_wb 3-5 + word 1-2 (sublinear) -> LR(C=1)
  concat    LR(C=1) on hstack(TF-IDF [row norm sqrt 2], standardised E5 * sqrt(2/384) [expected norm sqrt 2]):
            both blocks weigh about the same
  stack     out-of-fold probabilities (StratifiedKFold 5, shuffled, seed 42) of tfidf and e5-std on the
            training rows -> LR(C=1) on the concatenated probabilities; at test time the base models are refit
            on every training row
Every LR: lbfgs, C=1, max_iter=1000, class_weight none (scikit-learn's default) and/or balanced (logclf's).
Cells: accuracy (errors) and macro F1 over the labels in the test truth or predictions.
Embeddings are cached in WORK/e5-cache.npz (by text), so reruns and several sets cost one E5 pass.
Environment: LOGCLF (build/bin/logclf), E5_DIR (../shared/models/e5-small-v2).
"""
import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CHECKOUT = os.path.dirname(HERE)


def read(path):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return [r["log_message"] for r in rows], [r["target_label"] for r in rows]


def wait_for(path, seconds=600):
    t0 = time.time()
    while not os.access(path, os.X_OK):
        if time.time() - t0 > seconds:
            sys.exit(f"stacking: {path} missing")
        time.sleep(5)


def embed(texts, work, logclf, e5dir, np):
    """E5 vectors for texts, through `logclf embed`, cached by text in WORK/e5-cache.npz."""
    cache_path = os.path.join(work, "e5-cache.npz")
    cache = {}
    if os.path.exists(cache_path):
        z = np.load(cache_path, allow_pickle=False)
        cache = dict(zip(z["texts"].tolist(), z["vectors"]))
    todo = sorted(set(t for t in texts if t not in cache))
    if todo:
        print(f"stacking: embedding {len(todo)} texts with {logclf} embed ...", file=sys.stderr, flush=True)
        wait_for(logclf)
        with tempfile.NamedTemporaryFile("w", suffix=".jsonl", dir=work, delete=False, encoding="utf-8") as f:
            for t in todo:
                f.write(json.dumps({"text": t}) + "\n")
            inp = f.name
        t0 = time.time()
        out = subprocess.run([logclf, "embed", "--format", "jsonl", "--encoder-dir", e5dir,
                              "--prefix", "passage: ", inp], check=True, stdout=subprocess.PIPE).stdout
        os.unlink(inp)
        vecs = [json.loads(l) for l in out.decode().splitlines() if l.strip()]
        if len(vecs) != len(todo):
            sys.exit(f"stacking: logclf embed gave {len(vecs)} vectors for {len(todo)} texts")
        print(f"stacking: {len(todo)} texts embedded in {time.time() - t0:.0f} s "
              f"({len(todo) / (time.time() - t0):.1f}/s)", file=sys.stderr)
        for t, v in zip(todo, vecs):
            cache[t] = np.asarray(v, dtype=np.float32)
        keys = sorted(cache)
        np.savez(cache_path, texts=np.array(keys), vectors=np.stack([cache[k] for k in keys]))
    return np.stack([cache[t] for t in texts])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", help="directory with SET-train.csv / SET-test.csv (default: a new temp dir)")
    ap.add_argument("--sets", default="a,b-all,c,d")
    ap.add_argument("--class-weight", default="none,balanced", help="comma list of none, balanced")
    ap.add_argument("--folds", type=int, default=5)
    a = ap.parse_args()
    try:
        import numpy as np
        import scipy.sparse as sp
        from sklearn.linear_model import LogisticRegression
        from sklearn.metrics import accuracy_score, f1_score
        from sklearn.model_selection import StratifiedKFold
        from sklearn.preprocessing import StandardScaler
    except ImportError:
        sys.exit("stacking: needs python3-sklearn (apt-get install -y python3-sklearn); run with /usr/bin/python3")
    sys.dont_write_bytecode = True  # no __pycache__ in the checkout
    sys.path.insert(0, HERE)
    from sklearn_baseline import make_tfidf

    logclf = os.environ.get("LOGCLF", os.path.join(CHECKOUT, "build", "bin", "logclf"))
    e5dir = os.environ.get("E5_DIR", os.path.normpath(os.path.join(CHECKOUT, "..", "shared", "models",
                                                                   "e5-small-v2")))
    work = a.work or tempfile.mkdtemp(prefix="logclf-stacking.")
    os.makedirs(work, exist_ok=True)
    sets = [s for s in a.sets.split(",") if s]
    missing = [s for s in sets if not (os.path.exists(f"{work}/{s}-train.csv") and os.path.exists(f"{work}/{s}-test.csv"))]
    if missing:
        env = dict(os.environ, PREPARE_ONLY="1", BENCH_TMP=work)
        subprocess.run(["bash", os.path.join(HERE, "compare-encoders.sh")] + missing, check=True, env=env,
                       stdout=sys.stderr)
    data = {s: (read(f"{work}/{s}-train.csv"), read(f"{work}/{s}-test.csv")) for s in sets}
    all_texts = [t for (xtr, _), (xte, _) in data.values() for t in xtr + xte]
    embed(all_texts, work, logclf, e5dir, np)  # one E5 pass for every set

    def lr(cw):
        return LogisticRegression(C=1.0, max_iter=1000, class_weight=cw)

    def score(y, p):
        return accuracy_score(y, p), int(sum(1 for a_, b_ in zip(y, p) if a_ != b_)), \
            f1_score(y, p, average="macro", zero_division=0)

    methods = ["e5", "e5-std", "tfidf", "concat", "stack"]
    table = []
    for s in sets:
        (xtr, ytr), (xte, yte) = data[s]
        etr, ete = embed(xtr, work, logclf, e5dir, np), embed(xte, work, logclf, e5dir, np)
        scaler = StandardScaler().fit(etr)
        str_, ste = scaler.transform(etr), scaler.transform(ete)
        tf = make_tfidf().fit(xtr)
        ttr, tte = tf.transform(xtr), tf.transform(xte)
        w = np.sqrt(2.0 / etr.shape[1])
        ctr = sp.hstack([ttr, sp.csr_matrix(str_ * w)]).tocsr()
        cte = sp.hstack([tte, sp.csr_matrix(ste * w)]).tocsr()
        ytr_a = np.array(ytr)
        min_class = min(np.unique(ytr_a, return_counts=True)[1])
        folds = max(2, min(a.folds, min_class))
        for cw_name in [c for c in a.class_weight.split(",") if c]:
            cw = None if cw_name == "none" else "balanced"
            t0 = time.time()
            res = {}
            res["e5"] = score(yte, lr(cw).fit(etr, ytr).predict(ete))
            m_es = lr(cw).fit(str_, ytr)
            res["e5-std"] = score(yte, m_es.predict(ste))
            m_tf = lr(cw).fit(ttr, ytr)
            res["tfidf"] = score(yte, m_tf.predict(tte))
            res["concat"] = score(yte, lr(cw).fit(ctr, ytr).predict(cte))
            # stacking: out-of-fold probabilities on the training rows
            classes = m_tf.classes_
            oof = np.zeros((len(ytr), 2 * len(classes)))
            skf = StratifiedKFold(n_splits=folds, shuffle=True, random_state=42)
            for fi, (i_tr, i_va) in enumerate(skf.split(ttr, ytr_a)):
                for j, (Xtr, Xva) in enumerate([(ttr[i_tr], ttr[i_va]), (str_[i_tr], str_[i_va])]):
                    m = lr(cw).fit(Xtr, ytr_a[i_tr])
                    p = np.zeros((len(i_va), len(classes)))
                    p[:, np.searchsorted(classes, m.classes_)] = m.predict_proba(Xva)
                    oof[i_va, j * len(classes):(j + 1) * len(classes)] = p
            meta = lr(cw).fit(oof, ytr_a)
            pte = np.hstack([m_tf.predict_proba(tte), m_es.predict_proba(ste)])
            res["stack"] = score(yte, meta.predict(pte))
            table.append((s, cw_name, len(ytr), len(yte), res, time.time() - t0))
            print(f"stacking: set {s} class_weight {cw_name}: {time.time() - t0:.1f} s "
                  f"({folds} folds for stack)", file=sys.stderr, flush=True)

    hdr = ["set", "class_weight", "train", "test"] + methods
    rows = [[s, cw, str(ntr), str(nte)] + [f"{r[m][0]:.4f} ({r[m][1]}) / {r[m][2]:.4f}" for m in methods]
            for s, cw, ntr, nte, r, _ in table]
    w = [max(len(r[i]) for r in rows + [hdr]) for i in range(len(hdr))]
    fmt = lambda r: "| " + " | ".join(c.ljust(w[i]) if i < 2 else c.rjust(w[i]) for i, c in enumerate(r)) + " |"
    print("accuracy (errors) / macro F1 on each set's test file; scikit-learn, no rules, arg-max")
    print(fmt(hdr))
    print("|" + "|".join("-" * (x + 2) for x in w) + "|")
    for r in rows:
        print(fmt(r))
    print(f"work directory: {work}")


if __name__ == "__main__":
    main()
