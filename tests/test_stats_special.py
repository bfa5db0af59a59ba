"""pgolf.stats computes Student's t and the noncentral t through scipy.special (a fast import): on a grid of
arguments, edge cases included, the numbers are scipy.stats.t's and scipy.stats.nct's exactly."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
from scipy import stats

from pgolf import stats as st

DFS = [0.5, 1, 2, 3, 5, 10, 57, 1000, 1e7, 0, -1, math.nan, math.inf]
XS = [-math.inf, -40, -3, -0.1, 0, 0.5, 1.7, 2.9, 6.3, 80, math.inf, math.nan]


def _same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


def test_student_t_is_scipy_stats_t():
    for df in DFS:
        for x in XS:
            assert _same(st._t_cdf(x, df), float(stats.t.cdf(x, df))), (df, x)
            assert _same(st._t_sf(x, df), float(stats.t.sf(x, df))), (df, x)
        for q in [0, 1e-12, 0.025, 0.5, 0.9, 0.995, 1, math.nan, 1.5]:
            assert _same(st._t_ppf(q, df), float(stats.t.ppf(q, df))), (df, q)


def test_noncentral_t_is_scipy_stats_nct():
    for df in DFS:
        for nc in [-5, 0, 0.3, 1, 2.5, 7, 30, 40, math.nan, -math.inf, math.inf]:
            for x in XS:
                assert _same(st._nct_cdf(x, df, nc), float(stats.nct.cdf(x, df, nc))), (df, nc, x)
                assert _same(st._nct_sf(x, df, nc), float(stats.nct.sf(x, df, nc))), (df, nc, x)
    assert np.isclose(st.t_test_power(0.8, 5, 0.05), 0.8, atol=0.5)


def test_importing_pgolf_stats_leaves_scipy_stats_unimported():
    code = "import sys, pgolf.stats; print('scipy.stats' in sys.modules, 'scipy.optimize' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False"]
