"""sklearn's MiniBatchDictionaryLearning on the planted data written by ica-learning.run.ts.

Usage: ica-learning.py ROWS.npy TRUTH.npy TARGET CAP_SECONDS CONFIG...
CONFIG is FIT_ALGORITHM:BATCH_SIZE:ALPHA, e.g. lars:256:0.35. Each configuration trains by
partial_fit on batches drawn from the rows until MMCS against the planted features reaches
TARGET or its training time passes CAP_SECONDS. MMCS is checked every 25 batches (and about
every 10 seconds of training); the checks and the L0 measurement are not timed.

Prints one JSON line per configuration: training seconds to the target (null if not
reached), training seconds run, batches, the last MMCS and the mean L0 of its codes (lasso,
lasso_cd at its alpha) on 1000 of the rows at the end.
"""
import json
import sys
import time
import warnings

import numpy as np
from sklearn.decomposition import MiniBatchDictionaryLearning, sparse_encode

warnings.filterwarnings("ignore")
rows = np.load(sys.argv[1])
truth = np.load(sys.argv[2])
target = float(sys.argv[3])
cap = float(sys.argv[4])
configs = sys.argv[5:]
truth = truth / np.linalg.norm(truth, axis=1, keepdims=True)


def mmcs(atoms):
    norms = np.linalg.norm(atoms, axis=1, keepdims=True)
    norms[norms == 0] = 1
    return float(np.abs(truth @ (atoms / norms).T).max(1).mean())


for config in configs:
    fit_algorithm, batch_size, alpha = config.split(":")
    batch_size = int(batch_size)
    alpha = float(alpha)
    # Started like Basis: distinct random rows at unit norm (sklearn's own start, an SVD of
    # the first batch, leaves M - batch atoms at zero).
    order = np.random.default_rng(1).permutation(rows.shape[0])[: truth.shape[0]]
    start_atoms = rows[order] / np.linalg.norm(rows[order], axis=1, keepdims=True)
    learner = MiniBatchDictionaryLearning(
        n_components=truth.shape[0], alpha=alpha, batch_size=batch_size, random_state=0,
        fit_algorithm=fit_algorithm, dict_init=start_atoms)
    rng = np.random.default_rng(0)
    trained = 0.0
    reached = None
    score = 0.0
    step = 0
    checked = 0.0
    trace = []
    while trained < cap:
        step += 1
        batch = rows[rng.integers(0, rows.shape[0], batch_size)]
        start = time.perf_counter()
        learner.partial_fit(batch)
        trained += time.perf_counter() - start
        if step % 25 == 0 or trained - checked >= 10:
            checked = trained
            score = mmcs(learner.components_)
            trace.append([step, round(trained, 2), round(score, 4)])
            if score >= target:
                reached = trained
                break
    codes = sparse_encode(rows[:1000], learner.components_, algorithm="lasso_cd", alpha=alpha)
    print(json.dumps({"config": config, "seconds": reached, "elapsed": trained, "steps": step,
                      "mmcs": score, "meanActive": float((codes != 0).sum(1).mean()),
                      "trace": trace}), flush=True)
