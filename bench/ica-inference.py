"""sklearn's SparseCoder on the rows and dictionary written by ica-inference.run.ts.

Prints one JSON line per algorithm: wall seconds and the largest KKT residual of the codes
relative to alpha (the same test Basis applies), so the comparison is at equal accuracy.
"""
import json
import sys
import time
import warnings

import numpy as np
from sklearn.decomposition import SparseCoder

rows = np.load(sys.argv[1])
dictionary = np.load(sys.argv[2])
alpha = float(sys.argv[3])
gram = dictionary @ dictionary.T
# lasso_lars warns about degenerate regressors on coherent dictionaries; the KKT figure
# printed below says how far from the minimiser its codes ended.
warnings.filterwarnings("ignore")


def kkt(codes):
    g = rows @ dictionary.T - codes @ gram
    active = codes != 0
    residual = np.where(active, np.abs(g - alpha * np.sign(codes)), np.maximum(np.abs(g) - alpha, 0))
    return float(residual.max() / alpha)


for algorithm, extra in [("lasso_lars", {}), ("lasso_cd", {"transform_max_iter": 1000})]:
    # sklearn divides alpha by n_features internally, so its objective matches 1/2||x-Ds||^2 + alpha|s|_1.
    coder = SparseCoder(dictionary=dictionary, transform_algorithm=algorithm, transform_alpha=alpha, **extra)
    start = time.perf_counter()
    codes = coder.transform(rows)
    seconds = time.perf_counter() - start
    print(json.dumps({"algorithm": algorithm, "seconds": seconds, "kkt": kkt(codes),
                      "meanActive": float((codes != 0).sum(1).mean())}))
