"""sklearn's SparseCoder on the rows and dictionary written by ica-inference.run.ts.

Usage: ica-inference.py ROWS.npy DICTIONARY.npy ALPHA TARGET JOB...
JOB is `lasso_lars`, `lasso_cd` (SparseCoder as shipped: Lasso's default tol 1e-4) or
`lasso_cd:TOL` (the same Lasso call SparseCoder makes, with tol set; SparseCoder does not
expose tol) or `lasso_cd:auto`: tol 1e-5, then ten times tighter until the codes' largest
KKT residual is at most TARGET * alpha; only the run that reached it is timed and printed.

Prints one JSON line per job: wall seconds, the largest KKT residual of the codes relative to
alpha (the same test Basis applies, computed the same way for every solver) and the mean L0.
"""
import json
import sys
import time
import warnings

import numpy as np
from sklearn.decomposition import SparseCoder
from sklearn.linear_model import Lasso

rows = np.load(sys.argv[1])
dictionary = np.load(sys.argv[2])
alpha = float(sys.argv[3])
target = float(sys.argv[4])
jobs = sys.argv[5:]
gram = dictionary @ dictionary.T
# lasso_lars warns about degenerate regressors on coherent dictionaries; the KKT figure
# printed below says how far from the minimiser its codes ended.
warnings.filterwarnings("ignore")


def kkt(codes):
    g = rows @ dictionary.T - codes @ gram
    active = codes != 0
    residual = np.where(active, np.abs(g - alpha * np.sign(codes)), np.maximum(np.abs(g) - alpha, 0))
    return float(residual.max() / alpha)


def sparse_coder(algorithm):
    # sklearn divides alpha by n_features internally, so its objective is
    # 1/2 ||x - D s||^2 + alpha |s|_1, the same as Basis's.
    extra = {"transform_max_iter": 1000} if algorithm == "lasso_cd" else {}
    coder = SparseCoder(dictionary=dictionary, transform_algorithm=algorithm,
                        transform_alpha=alpha, **extra)
    return coder.transform


def lasso_cd(tol):
    # What SparseCoder(transform_algorithm="lasso_cd") runs (sklearn 1.2
    # decomposition/_dict_learning.py, _sparse_encode), with tol.
    def transform(x):
        clf = Lasso(alpha=alpha / dictionary.shape[1], fit_intercept=False, precompute=gram,
                    max_iter=100000, warm_start=True, tol=tol)
        clf.fit(dictionary.T, x.T, check_input=False)
        return clf.coef_
    return transform


def run(name, transform, extra=None):
    start = time.perf_counter()
    codes = transform(rows)
    seconds = time.perf_counter() - start
    result = {"algorithm": name, "seconds": seconds, "kkt": kkt(codes),
              "meanActive": float((codes != 0).sum(1).mean()), **(extra or {})}
    return result


for job in jobs:
    if job in ("lasso_lars", "lasso_cd"):
        print(json.dumps(run(job, sparse_coder(job))), flush=True)
        continue
    algorithm, tol = job.split(":")
    if tol != "auto":
        print(json.dumps(run(algorithm, lasso_cd(float(tol)), {"tol": float(tol)})), flush=True)
        continue
    tol = 1e-5
    while True:
        result = run(algorithm, lasso_cd(tol), {"tol": tol})
        if result["kkt"] <= target or tol < 1e-12:
            break
        tol /= 10
    print(json.dumps(result), flush=True)
