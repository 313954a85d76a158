"""scikit-learn peer of the training.peers benchmark (issue 16): TfidfVectorizer + LogisticRegression.

Usage: python3 sklearn_peer.py <fit.tsv> <validation.tsv> <test.txt> <english|unsegmented> <predictions.txt>
Each .tsv line is "<label index>\t<text>"; test.txt holds one text per line. C is chosen on the validation file by
macro-F1 from a small grid, then vectorizer and model are refit on fit + validation with that C (as auto refits).
Writes one predicted label index per test line to <predictions.txt> and one JSON line of timings to stdout.
"""
import json
import resource
import sys
import time

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score

GRID = [0.1, 1.0, 10.0, 100.0]


def read_tsv(path):
    labels, texts = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            label, _, text = line.partition("\t")
            labels.append(int(label))
            texts.append(text)
    return labels, texts


def vectorizer(mode):
    if mode == "unsegmented":
        # Japanese: no spaces between words, so character n-grams within whitespace-bounded chunks.
        return TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True)
    return TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True)


def fit(mode, texts, labels, c):
    vec = vectorizer(mode)
    x = vec.fit_transform(texts)
    model = LogisticRegression(C=c, max_iter=2000)
    model.fit(x, labels)
    return vec, model


def peak_rss_kib():
    """This process's peak resident set in KiB: VmHWM of /proc/self/status (its own address space since exec).
    getrusage's ru_maxrss is only the fallback: Linux carries it over exec, so after a fork from a large parent (the
    .NET benchmark process) it reports the parent's resident set, not this script's."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main():
    fit_path, validation_path, test_path, mode, out_path = sys.argv[1:6]
    fit_labels, fit_texts = read_tsv(fit_path)
    val_labels, val_texts = read_tsv(validation_path)
    with open(test_path, encoding="utf-8") as f:
        test_texts = [line.rstrip("\n") for line in f]

    start = time.perf_counter()
    scores = {}
    if len(set(fit_labels)) > 1 and val_texts:
        for c in GRID:
            vec, model = fit(mode, fit_texts, fit_labels, c)
            predicted = model.predict(vec.transform(val_texts))
            scores[c] = f1_score(val_labels, predicted, average="macro")
        best = max(GRID, key=lambda c: (scores[c], -abs(c - 1.0)))
    else:
        best = 1.0
    select_seconds = time.perf_counter() - start
    refit_start = time.perf_counter()
    vec, model = fit(mode, fit_texts + val_texts, fit_labels + val_labels, best)
    refit_seconds = time.perf_counter() - refit_start
    train_seconds = time.perf_counter() - start

    predict_start = time.perf_counter()
    predicted = model.predict(vec.transform(test_texts))
    predict_seconds = time.perf_counter() - predict_start
    with open(out_path, "w", encoding="utf-8") as f:
        for p in predicted:
            f.write(f"{int(p)}\n")

    peak_kib = peak_rss_kib()
    print(json.dumps({
        "c": best,
        "validation_macro_f1": {str(k): v for k, v in scores.items()},
        "select_seconds": select_seconds,
        "refit_seconds": refit_seconds,
        "train_seconds": train_seconds,
        "predict_seconds": predict_seconds,
        "test_texts": len(test_texts),
        "features": len(vec.vocabulary_),
        "peak_rss_kib": peak_kib,
    }))


if __name__ == "__main__":
    main()
