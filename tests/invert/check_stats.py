#!/usr/bin/python3
"""Paired t-test and Wilcoxon signed-rank p-values against scipy.stats (ttest_rel, wilcoxon with defaults) on
small exact cases, ties, zero differences and n > 50. Tolerance 1e-6 relative: both are closed-form or exact
sums; the incomplete beta continued fraction converges to ~1e-14."""
import json, subprocess, sys
import numpy as np
from scipy import stats

tool = sys.argv[1]
rng = np.random.default_rng(7)
cases = [
    (rng.normal(0.1, 1, 8), rng.normal(0, 1, 8)),            # exact Wilcoxon
    (rng.normal(0.3, 1, 30), rng.normal(0, 1, 30)),
    (rng.normal(0.2, 1, 80), rng.normal(0, 1, 80)),           # normal approximation
    (np.round(rng.normal(0, 2, 40)), np.round(rng.normal(0.5, 2, 40))),  # ties and zeros
]
ok = True
for a, b in cases:
    got = json.loads(subprocess.run([tool, "stats"], input=json.dumps({"a": a.tolist(), "b": b.tolist()}),
                                    capture_output=True, text=True, check=True).stdout)
    want_t = stats.ttest_rel(a, b).pvalue
    want_w = stats.wilcoxon(a, b).pvalue
    good = abs(got["t_p"] - want_t) <= 1e-6 * max(want_t, 1e-12) + 1e-12 and \
        abs(got["wilcoxon_p"] - want_w) <= 1e-6 * max(want_w, 1e-12) + 1e-12
    ok &= good
    print(f"n={len(a):3d} t-test {got['t_p']:.6g} vs scipy {want_t:.6g}; Wilcoxon {got['wilcoxon_p']:.6g} vs scipy "
          f"{want_w:.6g} {'ok' if good else 'FAIL'}")
sys.exit(0 if ok else 1)
