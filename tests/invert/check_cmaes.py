#!/usr/bin/python3
"""Our CMA-ES against Debian's python3-cmaes (cmaes 0.9) on 5-D sphere, ellipsoid and Rosenbrock: the mean
number of evaluations to reach f < 1e-8 over 8 seeds must agree within a factor of 2 (both use the default
population 4 + floor(3 ln 5) = 8 and the same start and initial sigma)."""
import json, subprocess, sys
import numpy as np
from cmaes import CMA

tool = sys.argv[1]
SEEDS = range(8)

def f(name, x):
    if name == "sphere":
        return float(np.sum(x * x))
    if name == "ellipsoid":
        return float(np.sum(1e6 ** (np.arange(5) / 4) * x * x))
    return float(np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2))

def python_evals(name, seed):
    x0 = np.zeros(5) if name == "rosenbrock" else np.full(5, 3.0)
    es = CMA(mean=x0, sigma=0.5 if name == "rosenbrock" else 1.0, seed=seed)
    evals, best = 0, np.inf
    while best >= 1e-8 and evals < 200000:
        sols = []
        for _ in range(es.population_size):
            x = es.ask()
            v = f(name, x)
            best = min(best, v)
            sols.append((x, v))
        evals += len(sols)
        es.tell(sols)
    return evals

ok = True
for name in ["sphere", "ellipsoid", "rosenbrock"]:
    ours = [json.loads(subprocess.check_output([tool, "cmaes", name, str(s)]))["evaluations"] for s in SEEDS]
    ref = [python_evals(name, s) for s in SEEDS]
    ratio = np.mean(ours) / np.mean(ref)
    good = 0.5 <= ratio <= 2.0 and max(ours) < 200000
    ok &= good
    print(f"{name:10s} tumorforge {np.mean(ours):8.0f} evaluations  python3-cmaes {np.mean(ref):8.0f}  ratio {ratio:.2f} "
          f"{'ok' if good else 'FAIL'}")
sys.exit(0 if ok else 1)
