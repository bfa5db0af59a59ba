"""pgolf.stats against hand-derived numbers and independent computations."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats as sps

from pgolf import stats
from pgolf.errors import PgolfError

CLAIM = [1.1927, 1.1935, 1.1921, 1.1929]  # record #77's four bpb values
THRESHOLD = 1.195


def t3_cdf(t: float) -> float:
    """Student t CDF with 3 degrees of freedom in closed form (no scipy)."""
    u = t / math.sqrt(3.0)
    return 0.5 + (u / (1.0 + u * u) + math.atan(u)) / math.pi


def test_one_sample_reproduces_published_p_value():
    r = stats.one_sample_t(CLAIM, THRESHOLD, alternative="less")
    # by hand: mean 1.1928, squared deviations sum to exactly 1e-6, so
    # s = sqrt(1e-6 / 3), t = (1.1928 - 1.195) / (s / 2) = -4.4 * sqrt(3)
    assert r.n == 4 and r.df == 3
    assert r.mean == pytest.approx(1.1928, abs=1e-12)
    assert r.std == pytest.approx(math.sqrt(1e-6 / 3), rel=1e-9)
    assert r.t == pytest.approx(-4.4 * math.sqrt(3.0), rel=1e-9)
    assert round(r.t, 2) == -7.62
    assert r.p_value == pytest.approx(t3_cdf(-4.4 * math.sqrt(3.0)), abs=1e-12)
    assert abs(r.p_value - 0.00234486) < 1e-8  # the claim's printed value
    assert round(r.p_value, 8) == 0.00234486


def test_one_sample_matches_scipy_and_written_out_formula():
    values = [1.2011, 1.1987, 1.2040, 1.1999, 1.2023]
    n = len(values)
    mean = sum(values) / n
    s = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    t = (mean - 1.2) / (s / math.sqrt(n))
    for alt, p in (("less", sps.t.cdf(t, n - 1)), ("greater", sps.t.sf(t, n - 1)),
                   ("two-sided", 2 * sps.t.sf(abs(t), n - 1))):
        r = stats.one_sample_t(values, 1.2, alternative=alt)
        assert r.t == pytest.approx(t, rel=1e-12)
        assert r.p_value == pytest.approx(p, rel=1e-10)
        assert r.p_value == pytest.approx(sps.ttest_1samp(values, 1.2, alternative=alt).pvalue, rel=1e-10)


def test_one_sided_bound_excludes_threshold_exactly_when_p_below_alpha():
    r99 = stats.one_sample_t(CLAIM, THRESHOLD, confidence=0.99)
    assert r99.p_value < 0.01 and r99.bound < THRESHOLD
    r = stats.one_sample_t(CLAIM, 1.1935, confidence=0.99)
    assert r.p_value > 0.01 and r.bound > 1.1935
    lo, hi = r99.ci
    assert lo < r99.mean < hi
    assert hi - r99.mean == pytest.approx(sps.t.ppf(0.995, 3) * r99.sem)


@pytest.mark.parametrize("values", [[1.19], [], [1.19, float("nan"), 1.2]])
def test_one_sample_refuses_too_few_or_nan_values(values):
    with pytest.raises(PgolfError, match="at least 2|NaN"):
        stats.one_sample_t(values, THRESHOLD)


def test_one_sample_refuses_identical_values():
    with pytest.raises(PgolfError, match="identical"):
        stats.one_sample_t([1.19, 1.19, 1.19], THRESHOLD)


def test_results_are_json_safe():
    r = stats.one_sample_t(CLAIM, THRESHOLD, alternative="two-sided")
    d = r.to_dict()
    assert d["bound"] is None  # no one-sided bound for a two-sided test
    json.dumps(d, allow_nan=False)
    assert d["p_value"] == r.p_value and d["ci"] == list(r.ci)


def test_paired_differences_by_hand():
    a = [1.20, 1.21, 1.19, 1.22]
    b = [1.23, 1.25, 1.22, 1.24]
    # d = [-0.03, -0.04, -0.03, -0.02]: mean -0.03, sum of squares 0.0002, s = sqrt(0.0002 / 3)
    r = stats.paired_differences(a, b, alternative="less")
    s = math.sqrt(0.0002 / 3)
    assert r.mean_diff == pytest.approx(-0.03)
    assert r.std_diff == pytest.approx(s)
    assert r.t == pytest.approx(-0.03 / (s / 2))
    assert r.p_value == pytest.approx(t3_cdf(-0.03 / (s / 2)), abs=1e-12)
    assert r.p_value == pytest.approx(sps.ttest_rel(a, b, alternative="less").pvalue, rel=1e-10)


def test_paired_differences_refuses_unequal_lengths():
    with pytest.raises(PgolfError, match="pair them"):
        stats.paired_differences([1.0, 2.0, 3.0], [1.0, 2.0])


def test_holm_hand_case():
    # sorted: 0.005, 0.01, 0.03, 0.04 -> x4, x3, x2, x1 = 0.02, 0.03, 0.06, 0.04 -> running max
    adjusted = stats.holm([0.01, 0.04, 0.03, 0.005])
    assert adjusted == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert stats.holm([0.5, 0.6]) == [1.0, 1.0]  # capped at 1, monotone
    assert stats.holm([]) == []
    with pytest.raises(PgolfError):
        stats.holm([0.1, float("nan")])


def test_welch_hand_case():
    new, old = [1.0, 2.0, 3.0], [3.0, 4.0, 5.0, 6.0]
    # by hand: s_new^2 / 3 = 1/3, s_old^2 / 4 = (5/3) / 4 = 5/12, se^2 = 3/4,
    # t = -2.5 / sqrt(3/4) = -5 / sqrt(3), df = (3/4)^2 / ((1/3)^2 / 2 + (5/12)^2 / 3) = 243/49
    r = stats.welch_one_sided(new, old)
    assert r.se == pytest.approx(math.sqrt(0.75))
    assert r.t == pytest.approx(-5 / math.sqrt(3))
    assert r.df == pytest.approx(243 / 49)
    assert r.p_value == pytest.approx(sps.t.cdf(-5 / math.sqrt(3), 243 / 49), rel=1e-12)
    ref = sps.ttest_ind(new, old, equal_var=False, alternative="less")
    assert r.p_value == pytest.approx(ref.pvalue, rel=1e-10)
    # margin 0.5: is new below old - 0.5?  t = (-2.5 + 0.5) / sqrt(3/4) = -4 / sqrt(3)
    m = stats.welch_one_sided(new, old, margin=0.5)
    assert m.t == pytest.approx(-4 / math.sqrt(3))
    assert m.p_value > r.p_value
    shifted = sps.ttest_ind(np.array(new) + 0.5, old, equal_var=False, alternative="less")
    assert m.p_value == pytest.approx(shifted.pvalue, rel=1e-10)


def test_nats_margin_uses_the_runs_own_ratio():
    loss = [2.0153, 2.0139, 2.0128, 2.0142]
    conv = stats.nats_margin_to_bpb(0.005, loss, CLAIM)
    ratio = float(np.mean(np.array(CLAIM) / np.array(loss)))
    assert conv.bpb_per_nat == pytest.approx(ratio)
    assert conv.margin_bpb == pytest.approx(0.005 * ratio)
    # the flat-stream exact line of one run gives the same tokens per byte to 4 digits
    assert conv.bpb_per_nat == pytest.approx(1.22692177 / 2.07160602, abs=5e-5)
    assert conv.tokens_per_byte == pytest.approx(ratio * math.log(2))


def test_power_numbers_for_the_claim():
    p = stats.power_one_sample(CLAIM, THRESHOLD, alpha=0.01, target_power=0.8)
    d = (THRESHOLD - 1.1928) / math.sqrt(1e-6 / 3)
    assert p.effect_size == pytest.approx(d)
    # n = 3: d sqrt(3) = 6.60 < t_0.99(2) = 6.96; n = 4: 7.62 > t_0.99(3) = 4.54
    assert p.n_for_p == 4
    assert stats.t_test_power(d, p.n_for_power, 0.01) >= 0.8 > stats.t_test_power(d, p.n_for_power - 1, 0.01)
    assert p.power_at_n == pytest.approx(stats.t_test_power(d, 4, 0.01))


def test_power_agrees_with_simulation():
    rng = np.random.default_rng(0)
    d, n, alpha = 1.2, 6, 0.05
    x = rng.normal(-d, 1.0, size=(40_000, n))  # true mean d SDs below a threshold of 0
    t = x.mean(1) / (x.std(1, ddof=1) / math.sqrt(n))
    simulated = float((t < sps.t.ppf(alpha, n - 1)).mean())
    assert stats.t_test_power(d, n, alpha) == pytest.approx(simulated, abs=0.01)


def test_power_on_the_wrong_side_needs_no_finite_n():
    p = stats.power_one_sample([1.20, 1.21, 1.22], THRESHOLD, n_max=50)
    assert p.n_for_p is None and p.n_for_power is None and p.effect_size < 0


@pytest.mark.parametrize(("printed", "matches"), [("0.0005", "n"), ("0.0006", "n-1"), ("0.001", "both"),
                                                  ("0.0009", "neither")])
def test_std_convention_tells_n_from_n_minus_1(printed, matches):
    sc = stats.std_convention(CLAIM, printed)
    assert sc.matches == matches
    assert sc.std_n == pytest.approx(0.0005) and sc.std_n_minus_1 == pytest.approx(math.sqrt(1e-6 / 3))
    assert "n" in sc.note


def test_verdict_sentence_reads_like_the_claim():
    r = stats.one_sample_t(CLAIM, THRESHOLD)
    assert stats.one_sample_sentence(r, 0.01) == (
        "mean 1.1928 < 1.195, one-sided t-test p = 0.0023, n = 4: holds at alpha = 0.01")
    r2 = stats.one_sample_t(CLAIM, 1.193)
    assert stats.one_sample_sentence(r2, 0.01).endswith("does not hold at alpha = 0.01")
    assert stats.format_p(3.1e-6) == "3.1e-06" and stats.format_p(0.51) == "0.51"


def test_reviewer_modules_do_not_import_torch():
    import subprocess
    import sys

    code = ("import sys, pgolf.stats, pgolf.review.judge.record, pgolf.review.judge.loose, pgolf.cli.check_logs, pgolf.cli.check_record; "
            "sys.exit(1 if 'torch' in sys.modules else 0)")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
