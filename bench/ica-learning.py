"""sklearn's MiniBatchDictionaryLearning on the planted data written by ica-learning.run.ts.

Trains by partial_fit on batches of 256 rows and reports the wall time at which MMCS
against the planted features first reaches the target, and the mean L0 of its codes then.
"""
import json
import sys
import time
import warnings

import numpy as np
from sklearn.decomposition import MiniBatchDictionaryLearning

warnings.filterwarnings("ignore")
rows = np.load(sys.argv[1])
truth = np.load(sys.argv[2])
alpha = float(sys.argv[3])
target = float(sys.argv[4])
max_steps = int(sys.argv[5])
truth = truth / np.linalg.norm(truth, axis=1, keepdims=True)


def mmcs(atoms):
    norms = np.linalg.norm(atoms, axis=1, keepdims=True)
    norms[norms == 0] = 1
    return float(np.abs(truth @ (atoms / norms).T).max(1).mean())


learner = MiniBatchDictionaryLearning(
    n_components=truth.shape[0], alpha=alpha, batch_size=256, random_state=0,
    transform_algorithm="lasso_lars", transform_alpha=alpha, fit_algorithm="lars")
rng = np.random.default_rng(0)
start = time.perf_counter()
reached = None
score = 0.0
step = 0
for step in range(1, max_steps + 1):
    batch = rows[rng.integers(0, rows.shape[0], 256)]
    learner.partial_fit(batch)
    if step % 25 == 0:
        score = mmcs(learner.components_)
        if score >= target:
            reached = time.perf_counter() - start
            break
elapsed = time.perf_counter() - start
codes = learner.transform(rows[:1000])
print(json.dumps({"seconds": reached, "elapsed": elapsed, "steps": step, "mmcs": score,
                  "meanActive": float((codes != 0).sum(1).mean())}))
