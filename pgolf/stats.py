"""Every statistical test pgolf reports, in one place (the DAG and reviewer mode both call it).

Pure numpy/scipy: no torch, so reviewer mode runs anywhere. Every function takes
plain sequences of floats and returns a frozen dataclass with `.to_dict()` whose
values are JSON-safe (no NaN: undefined numbers become None).

Conventions
- `std` is always the sample standard deviation (ddof = 1). Claims that printed
  `np.std` (ddof = 0) are caught by `std_convention`.
- `alternative` follows scipy: "less" tests mean < threshold (lower bpb is
  better, so this is the claim's direction), "greater" and "two-sided" also work.
- `ci` is the two-sided t-interval at `confidence`; `bound` is the matching
  one-sided bound for the chosen alternative (upper bound for "less"), so
  `p < 1 - confidence` exactly when the bound excludes the threshold.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

import numpy as np
from scipy import special as _sp

from pgolf.errors import PgolfError

try:  # the noncentral t's survival function, the one scipy.stats.nct.sf calls
    from scipy.special._ufuncs import _nct_sf as _nct_sf_ufunc
except ImportError:  # another scipy: scipy.stats.nct (same numbers, a slower import)
    _nct_sf_ufunc = None

ALTERNATIVES = ("less", "greater", "two-sided")


# Student's t and the noncentral t through scipy.special, the functions scipy.stats.t and .nct themselves call,
# with their edge cases (tests/test_stats_special.py compares them on a grid): the same numbers without importing
# scipy.stats (a second or more), so a short verb such as review-pr starts fast.
def _t_cdf(t: float, df: float) -> float:
    return float(_sp.stdtr(df, t))


def _t_sf(t: float, df: float) -> float:
    return float(_sp.stdtr(df, -t))


def _t_ppf(q: float, df: float) -> float:
    if q == 0:  # stdtrit(df, 0) is +inf; scipy.stats.t's is -inf (nan for a df out of range)
        return -math.inf if df > 0 else math.nan
    return float(_sp.stdtrit(df, q))


def _nct_cdf(x: float, df: float, nc: float) -> float:
    if not (df > 0 and nc == nc) or x != x:
        return math.nan
    return (1.0 if x > 0 else 0.0) if math.isinf(x) else float(_sp.nctdtr(df, nc, x))


def _nct_sf(x: float, df: float, nc: float) -> float:
    if _nct_sf_ufunc is None:
        from scipy import stats  # noqa: PLC0415 (only where scipy.special lacks the function)

        return float(stats.nct.sf(x, df, nc))
    if not (df > 0 and nc == nc) or x != x:
        return math.nan
    if math.isinf(x):
        return 0.0 if x > 0 else 1.0
    with np.errstate(over="ignore"):
        return float(np.clip(_nct_sf_ufunc(x, df, nc), 0.0, 1.0))


def json_safe(x: Any) -> Any:
    """JSON-safe copy: numpy scalars to Python, NaN/inf to None, tuples to lists."""
    if isinstance(x, dict):
        return {k: json_safe(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [json_safe(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


class _Result:
    def to_dict(self) -> dict[str, Any]:
        return json_safe(asdict(self))  # type: ignore[call-overload]


def _as_values(values: Sequence[float], what: str, min_n: int = 2) -> np.ndarray:
    arr = np.asarray(list(values), dtype=np.float64)
    if arr.ndim != 1:
        raise PgolfError(f"{what}: expected a flat list of numbers, got shape {arr.shape}")
    if np.isnan(arr).any() or np.isinf(arr).any():
        bad = [i for i, v in enumerate(arr) if not math.isfinite(v)]
        raise PgolfError(
            f"{what}: value(s) at position {bad} are NaN or infinite; "
            "drop the runs that did not finish before testing"
        )
    if arr.size < min_n:
        raise PgolfError(
            f"{what}: {arr.size} value(s) given, a t-test needs at least {min_n} "
            "(one run per seed; run more seeds or pass more logs)"
        )
    return arr


def _check_alternative(alternative: str) -> None:
    if alternative not in ALTERNATIVES:
        raise PgolfError(f"alternative={alternative!r}: choose one of {', '.join(ALTERNATIVES)}")


def _p_from_t(t: float, df: float, alternative: str) -> float:
    if alternative == "less":
        return _t_cdf(t, df)
    if alternative == "greater":
        return _t_sf(t, df)
    return 2.0 * _t_sf(abs(t), df)


def _intervals(
    center: float, se: float, df: float, confidence: float, alternative: str
) -> tuple[tuple[float, float], float]:
    q2 = _t_ppf(0.5 + confidence / 2.0, df)
    q1 = _t_ppf(confidence, df)
    ci = (center - q2 * se, center + q2 * se)
    if alternative == "less":
        bound = center + q1 * se
    elif alternative == "greater":
        bound = center - q1 * se
    else:
        bound = float("nan")
    return ci, bound


def _check_spread(std: float, what: str) -> None:
    if std == 0.0:
        raise PgolfError(
            f"{what}: every value is identical (std 0), so a t-test is undefined; "
            "identical numbers usually mean the same seed on a deterministic device: use different seeds"
        )


# --------------------------------------------------------------------------- one-sample


@dataclass(frozen=True)
class OneSampleT(_Result):
    """One-sample t-test of mean(values) against `threshold`."""

    n: int
    mean: float
    std: float  # ddof = 1
    std_ddof0: float  # what np.std prints; kept to compare with a claim's printed std
    sem: float
    t: float
    df: int
    p_value: float
    threshold: float
    alternative: str
    confidence: float
    ci: tuple[float, float]  # two-sided t-interval for the mean
    bound: float  # one-sided bound for the alternative (NaN -> None for two-sided)

    def holds(self, alpha: float) -> bool:
        return self.p_value < alpha


def one_sample_t(
    values: Sequence[float],
    threshold: float,
    alternative: str = "less",
    confidence: float = 0.95,
) -> OneSampleT:
    """t = (mean - threshold) / (s / sqrt(n)), s with n - 1, df = n - 1.

    Raises PgolfError for n < 2, NaN/inf values, or zero spread.
    """
    _check_alternative(alternative)
    x = _as_values(values, "one-sample t-test")
    n = int(x.size)
    mean = float(x.mean())
    std = float(x.std(ddof=1))
    _check_spread(std, "one-sample t-test")
    sem = std / math.sqrt(n)
    t = (mean - float(threshold)) / sem
    df = n - 1
    ci, bound = _intervals(mean, sem, df, confidence, alternative)
    return OneSampleT(
        n=n, mean=mean, std=std, std_ddof0=float(x.std(ddof=0)), sem=sem, t=t, df=df,
        p_value=_p_from_t(t, df, alternative), threshold=float(threshold), alternative=alternative,
        confidence=confidence, ci=ci, bound=bound,
    )


# --------------------------------------------------------------------------- paired


@dataclass(frozen=True)
class PairedDifference(_Result):
    """Paired t-test on d_i = a_i - b_i (e.g. condition a minus condition b, per seed)."""

    n: int
    mean_a: float
    mean_b: float
    mean_diff: float
    std_diff: float  # ddof = 1
    sem: float
    t: float
    df: int
    p_value: float
    alternative: str
    confidence: float
    ci: tuple[float, float]
    bound: float

    def holds(self, alpha: float) -> bool:
        return self.p_value < alpha


def mean_interval(values: Sequence[float], confidence: float = 0.95) -> tuple[float, float]:
    """Two-sided t-interval of the mean: NaN where undefined (n < 2), (mean, mean) with no spread."""
    if len(values) < 2:
        return float("nan"), float("nan")
    try:
        r = one_sample_t(values, threshold=float(np.mean(values)), alternative="two-sided", confidence=confidence)
    except PgolfError:
        m = float(np.mean(values))
        return m, m
    return float(r.ci[0]), float(r.ci[1])


def paired_differences(
    a: Sequence[float],
    b: Sequence[float],
    alternative: str = "less",
    confidence: float = 0.95,
) -> PairedDifference:
    """Test mean(a - b) against 0; "less" means a is lower than b (a improves on b).

    `a[i]` and `b[i]` must come from the same seed/run. Raises PgolfError when the
    lengths differ, n < 2, a value is NaN, or every difference is identical.
    """
    _check_alternative(alternative)
    xa = _as_values(a, "paired test (a)")
    xb = _as_values(b, "paired test (b)")
    if xa.size != xb.size:
        raise PgolfError(
            f"paired test: a has {xa.size} values and b has {xb.size}; pair them by seed "
            "(same runs in both) before testing"
        )
    d = xa - xb
    n = int(d.size)
    mean_d = float(d.mean())
    std_d = float(d.std(ddof=1))
    _check_spread(std_d, "paired test (a - b)")
    sem = std_d / math.sqrt(n)
    t = mean_d / sem
    df = n - 1
    ci, bound = _intervals(mean_d, sem, df, confidence, alternative)
    return PairedDifference(
        n=n, mean_a=float(xa.mean()), mean_b=float(xb.mean()), mean_diff=mean_d, std_diff=std_d,
        sem=sem, t=t, df=df, p_value=_p_from_t(t, df, alternative), alternative=alternative,
        confidence=confidence, ci=ci, bound=bound,
    )


# --------------------------------------------------------------------------- Holm


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm step-down adjusted p-values, in the input order.

    Sorted ascending p_(1) <= ... <= p_(m): adj_(i) = max_{j<=i} min(1, (m - j + 1) p_(j)).
    Reject H_(i) at level alpha exactly when adj_(i) < alpha (same decisions as Holm 1979).
    """
    p = np.asarray(list(pvalues), dtype=np.float64)
    if p.size == 0:
        return []
    if np.isnan(p).any() or (p < 0).any() or (p > 1).any():
        raise PgolfError(f"holm: p-values must lie in [0, 1] and not be NaN, got {p.tolist()}")
    m = p.size
    order = np.argsort(p, kind="stable")
    scaled = np.minimum(1.0, (m - np.arange(m)) * p[order])
    adjusted_sorted = np.maximum.accumulate(scaled)
    out = np.empty(m)
    out[order] = adjusted_sorted
    return [float(v) for v in out]


# --------------------------------------------------------------------------- Welch


@dataclass(frozen=True)
class WelchResult(_Result):
    """One-sided Welch test of mean(new) < mean(old) - margin."""

    n_new: int
    n_old: int
    mean_new: float
    mean_old: float
    std_new: float
    std_old: float
    diff: float  # mean_new - mean_old
    margin: float
    se: float
    t: float  # (diff + margin) / se
    df: float  # Welch-Satterthwaite
    p_value: float
    confidence: float
    ci: tuple[float, float]  # two-sided interval for diff
    bound: float  # one-sided upper bound for diff; < -margin exactly when p < 1 - confidence

    def holds(self, alpha: float) -> bool:
        return self.p_value < alpha


def _welch(x: np.ndarray, y: np.ndarray, what: str) -> tuple[float, float, float]:
    """mean(x) - mean(y), its standard error and the Welch-Satterthwaite df (unequal variances)."""
    vx = float(x.var(ddof=1)) / x.size
    vy = float(y.var(ddof=1)) / y.size
    se = math.sqrt(vx + vy)
    _check_spread(se, what)
    df = (vx + vy) ** 2 / (vx**2 / (x.size - 1) + vy**2 / (y.size - 1))
    return float(x.mean() - y.mean()), se, df


def welch_one_sided(
    new: Sequence[float],
    old: Sequence[float],
    margin: float = 0.0,
    confidence: float = 0.95,
) -> WelchResult:
    """Does `new` beat `old` by more than `margin` (same unit as the values)? Lower is better.

    t = (mean_new - mean_old + margin) / sqrt(s_new^2/n_new + s_old^2/n_old), df by
    Welch-Satterthwaite, p = P(T_df <= t). Raises PgolfError for fewer than 2 values on
    a side, NaN values, or zero spread on both sides.
    """
    xn = _as_values(new, "Welch test (new runs)")
    xo = _as_values(old, "Welch test (previous runs)")
    diff, se, df = _welch(xn, xo, "Welch test")
    t = (diff + float(margin)) / se
    ci, bound = _intervals(diff, se, df, confidence, "less")
    return WelchResult(
        n_new=int(xn.size), n_old=int(xo.size), mean_new=float(xn.mean()), mean_old=float(xo.mean()),
        std_new=float(xn.std(ddof=1)), std_old=float(xo.std(ddof=1)), diff=diff, margin=float(margin),
        se=se, t=t, df=df, p_value=_t_cdf(t, df), confidence=confidence, ci=ci, bound=bound,
    )


# --------------------------------------------------------------------------- margin in nats -> bpb


@dataclass(frozen=True)
class MarginConversion(_Result):
    """A val_loss margin (nats per token) expressed in bpb through the runs' own ratio."""

    margin_nats: float
    margin_bpb: float
    bpb_per_nat: float  # mean over runs of val_bpb / val_loss = tokens / (bytes * ln 2)
    ratio_min: float
    ratio_max: float
    tokens_per_byte: float  # bpb_per_nat * ln 2
    n: int


def nats_margin_to_bpb(
    margin_nats: float,
    val_loss_values: Sequence[float],
    val_bpb_values: Sequence[float],
) -> MarginConversion:
    """bpb = val_loss / ln 2 * tokens / bytes, so a margin of m nats is m * mean(bpb / val_loss) bpb.

    The ratio depends only on the validation tokens and bytes, so it is the same for
    every run on the same split; its spread over runs (ratio_min..ratio_max) shows
    the rounding of the printed numbers.
    """
    loss = _as_values(val_loss_values, "margin conversion (val_loss)", min_n=1)
    bpb = _as_values(val_bpb_values, "margin conversion (val_bpb)", min_n=1)
    if loss.size != bpb.size:
        raise PgolfError(f"margin conversion: {loss.size} val_loss values but {bpb.size} val_bpb values")
    if (loss <= 0).any():
        raise PgolfError(f"margin conversion: val_loss must be positive, got {loss.tolist()}")
    ratio = bpb / loss
    r = float(ratio.mean())
    return MarginConversion(
        margin_nats=float(margin_nats), margin_bpb=float(margin_nats) * r, bpb_per_nat=r,
        ratio_min=float(ratio.min()), ratio_max=float(ratio.max()), tokens_per_byte=r * math.log(2.0),
        n=int(loss.size),
    )


# --------------------------------------------------------------------------- power


@dataclass(frozen=True)
class PowerEstimate(_Result):
    """How many runs the observed mean and spread would need.

    n_for_p: smallest n at which the *observed* mean and std would give p < alpha
      (the expected t reaches the critical value): about a coin flip's chance of
      success if the truth equals the observation. Optimistic.
    n_for_power: smallest n whose real power (noncentral t) reaches `target_power`,
      taking the observed mean and std as the truth. This is the number to plan with.
    power_at_n: the power of the test with the n actually used.
    None where no n up to n_max works (the mean is on the wrong side of the threshold).
    """

    n: int
    mean: float
    std: float
    threshold: float
    effect_size: float  # |mean - threshold| / std in the direction of the alternative (Cohen's d)
    alpha: float
    target_power: float
    alternative: str
    power_at_n: float
    n_for_p: int | None
    n_for_power: int | None
    n_max: int


def t_test_power(effect_size: float, n: int, alpha: float, alternative: str = "less") -> float:
    """Power of the one-sample t-test with n values when the true mean sits effect_size SDs
    on the alternative's side of the threshold (noncentral t, df = n - 1)."""
    _check_alternative(alternative)
    df = n - 1
    nc = effect_size * math.sqrt(n)
    if alternative == "two-sided":
        crit = _t_ppf(1 - alpha / 2, df)
        return _nct_sf(crit, df, nc) + _nct_cdf(-crit, df, nc)
    crit = _t_ppf(1 - alpha, df)
    return _nct_sf(crit, df, nc)


def power_one_sample(
    values: Sequence[float],
    threshold: float,
    alpha: float = 0.01,
    target_power: float = 0.8,
    alternative: str = "less",
    n_max: int = 1000,
) -> PowerEstimate:
    """Runs needed for p < alpha at the observed spread; see PowerEstimate for the two numbers."""
    _check_alternative(alternative)
    x = _as_values(values, "power estimate")
    mean, std = float(x.mean()), float(x.std(ddof=1))
    _check_spread(std, "power estimate")
    gap = float(threshold) - mean if alternative == "less" else mean - float(threshold)
    d = abs(gap) / std if alternative == "two-sided" else gap / std
    n_for_p = n_for_power = None
    for n in range(2, n_max + 1 if d > 0 else 2):  # no n helps when the mean is on the wrong side
        q = 1 - alpha / 2 if alternative == "two-sided" else 1 - alpha
        crit = _t_ppf(q, n - 1)
        if n_for_p is None and d * math.sqrt(n) > crit:
            n_for_p = n
        if n_for_power is None and d > 0 and t_test_power(d, n, alpha, alternative) >= target_power:
            n_for_power = n
        if n_for_p is not None and n_for_power is not None:
            break
    return PowerEstimate(
        n=int(x.size), mean=mean, std=std, threshold=float(threshold), effect_size=d, alpha=alpha,
        target_power=target_power, alternative=alternative,
        power_at_n=t_test_power(d, int(x.size), alpha, alternative), n_for_p=n_for_p,
        n_for_power=n_for_power, n_max=n_max,
    )


# --------------------------------------------------------------------------- a claim's printed std


@dataclass(frozen=True)
class StdConvention(_Result):
    """Which standard deviation a claim printed: n - 1 (sample) or n (np.std default)."""

    printed: float
    decimals: int
    std_n_minus_1: float
    std_n: float
    matches: str  # "n-1", "n", "both" or "neither"

    @property
    def note(self) -> str:
        a, b = self.std_n_minus_1, self.std_n
        if self.matches == "n":
            return (f"the printed std {self.printed:.{self.decimals}f} divides by n ({b:.6f}); "
                    f"the sample std (n - 1) is {a:.6f}")
        if self.matches == "n-1":
            return f"the printed std {self.printed:.{self.decimals}f} is the sample std (n - 1, {a:.6f})"
        if self.matches == "both":
            return (f"the printed std {self.printed:.{self.decimals}f} is too rounded to tell: "
                    f"n - 1 gives {a:.6f}, n gives {b:.6f}")
        return (f"the printed std {self.printed:.{self.decimals}f} matches neither n - 1 ({a:.6f}) "
                f"nor n ({b:.6f})")


def std_convention(values: Sequence[float], printed_std: float | str) -> StdConvention:
    """Compare a claim's printed std with both conventions at the printed number of decimals."""
    x = _as_values(values, "std convention")
    dec = Decimal(str(printed_std))
    decimals = max(0, -int(dec.as_tuple().exponent))
    printed = float(dec)
    a, b = float(x.std(ddof=1)), float(x.std(ddof=0))
    half_ulp = 0.5 * 10.0 ** (-decimals) * (1 + 1e-9)
    ok_a, ok_b = abs(a - printed) <= half_ulp, abs(b - printed) <= half_ulp
    matches = {(True, True): "both", (True, False): "n-1", (False, True): "n"}.get((ok_a, ok_b), "neither")
    return StdConvention(printed=printed, decimals=decimals, std_n_minus_1=a, std_n=b, matches=matches)


# --------------------------------------------------------------------------- words


def format_p(p: float) -> str:
    """Two significant figures, scientific below 1e-4 (0.0023, 0.51, 3.1e-06)."""
    if p >= 1e-4:
        return f"{p:.2g}"
    return f"{p:.1e}"


def one_sample_sentence(r: OneSampleT, alpha: float, decimals: int = 4) -> str:
    """The verdict in one sentence, e.g. 'mean 1.1928 < 1.195, one-sided t-test p = 0.0023, n = 4:
    holds at alpha = 0.01'."""
    if r.alternative == "less":
        rel = "<" if r.mean < r.threshold else ">="
        kind = "one-sided"
    elif r.alternative == "greater":
        rel = ">" if r.mean > r.threshold else "<="
        kind = "one-sided"
    else:
        rel, kind = "vs", "two-sided"
    verdict = "holds" if r.holds(alpha) else "does not hold"
    return (f"mean {r.mean:.{decimals}f} {rel} {r.threshold:g}, {kind} t-test p = {format_p(r.p_value)}, "
            f"n = {r.n}: {verdict} at alpha = {alpha:g}")


def claim_test(seeds: Sequence[int], values: Sequence[float], headline: str, threshold: float, alpha: float,
               confidence: float) -> dict[str, Any]:
    """The claim 'mean < threshold' on one value per seed: the one-sided one-sample t-test, its
    sentence, verdict and power; or, when no test can run, the reason (never an exception)."""
    values = [float(v) for v in values]
    out: dict[str, Any] = {
        "headline": headline, "threshold": threshold, "alpha": alpha, "confidence": confidence,
        "seeds": [int(s) for s in seeds], "values": values, "n": len(values),
        "tested": False, "reason": None, "result": None, "sentence": None, "holds": None, "power": None,
    }
    if len(values) < 2:
        out["reason"] = (f"{len(values)} seed(s) finished the {headline} condition; a t-test needs at least 2 "
                         "distinct seeds (add seeds to `seeds` in the config)")
        return out
    try:
        r = one_sample_t(values, threshold, alternative="less", confidence=confidence)
    except PgolfError as exc:
        out["reason"] = str(exc)
        return out
    out.update(tested=True, result=r.to_dict(), sentence=one_sample_sentence(r, alpha), holds=r.holds(alpha))
    try:
        out["power"] = power_one_sample(values, threshold, alpha=alpha, alternative="less").to_dict()
    except PgolfError as exc:  # the test stands without it; say why it is missing
        out["power_reason"] = str(exc)
    return out


def paired_step_tests(steps: Sequence[tuple[str, str, Sequence[float], Sequence[float]]], alpha: float,
                      confidence: float) -> list[dict[str, Any]]:
    """Per step (from, to, per-seed values of `from`, of `to`, aligned by seed): the one-sided
    paired t-test that `to` is lower, Holm-adjusted over the steps that could be tested.
    A step with fewer than 2 seeds, or no spread, gets a note instead of numbers (NaN)."""
    nan = math.nan
    rows = []
    for before, after, values_before, values_after in steps:
        row: dict[str, Any] = {"from": before, "to": after, "n": len(values_after), "mean_from": nan,
                               "mean_to": nan, "mean_diff": nan, "std_diff": nan, "ci_low": nan, "ci_high": nan,
                               "t": nan, "df": nan, "p_value": nan, "p_holm": nan, "holds": None, "note": ""}
        if len(values_after) < 2:
            row["note"] = f"{len(values_after)} paired seed(s): no test"
        else:
            try:
                r = paired_differences(list(values_after), list(values_before), "less", confidence)
                row.update(mean_from=r.mean_b, mean_to=r.mean_a, mean_diff=r.mean_diff, std_diff=r.std_diff,
                           ci_low=r.ci[0], ci_high=r.ci[1], t=r.t, df=r.df, p_value=r.p_value)
            except PgolfError as exc:
                row["note"] = str(exc)
        rows.append(row)
    tested = [row for row in rows if not math.isnan(row["p_value"])]
    for row, p in zip(tested, holm([row["p_value"] for row in tested]) if tested else [], strict=True):
        row.update(p_holm=p, holds=bool(p < alpha))
    return rows


# =========================================================================== reviewer side: the progression
# (kept as one block at the end so that other changes to this module merge cleanly)


@dataclass(frozen=True)
class ProgressionTest(_Result):
    """Does a record beat the one before it by more than `margin`? Lower is better.

    method "welch": one-sided Welch test (both sides have >= 2 runs); "one-sample": the
    previous record has one run, taken as a fixed bound (one-sided one-sample t-test of
    mean(new) < old - margin).
    """

    method: str
    n_new: int
    n_old: int
    mean_new: float
    mean_old: float
    diff: float
    margin: float
    t: float
    df: float
    p_value: float

    def holds(self, alpha: float) -> bool:
        return self.p_value < alpha


def progression_test(new: Sequence[float], old: Sequence[float], margin: float = 0.0) -> ProgressionTest:
    """One-sided test of mean(new) < mean(old) - margin: Welch, or one-sample when old has one run."""
    xo = _as_values(old, "progression test (previous runs)", min_n=1)
    if xo.size >= 2:
        w = welch_one_sided(new, old, margin)
        return ProgressionTest(method="welch", n_new=w.n_new, n_old=w.n_old, mean_new=w.mean_new,
                               mean_old=w.mean_old, diff=w.diff, margin=w.margin, t=w.t, df=w.df,
                               p_value=w.p_value)
    bound = float(xo[0]) - float(margin)
    r = one_sample_t(new, bound, "less")
    return ProgressionTest(method="one-sample", n_new=r.n, n_old=1, mean_new=r.mean, mean_old=float(xo[0]),
                           diff=r.mean - float(xo[0]), margin=float(margin), t=r.t, df=float(r.df),
                           p_value=r.p_value)


def attempt(test: Any, *args: Any, **kwargs: Any) -> tuple[Any, str | None]:
    """Run one test: (its result, None), or (None, why it cannot run) when it raises PgolfError
    (too few runs, no spread): a reviewer's report says why instead of stopping."""
    try:
        return test(*args, **kwargs), None
    except PgolfError as exc:
        return None, str(exc)


# --------------------------------------------------------------------------- rerun vs claim (two-sided)
# Compliance reruns ask whether a rerun's mean differs from the claimed runs' mean, in
# either direction; a non-rejection is only as strong as the smallest difference the
# test could have seen, so that is computed beside it.


@dataclass(frozen=True)
class WelchTwoSided(_Result):
    """Two-sided Welch test of mean(rerun) != mean(claimed)."""

    n_rerun: int
    n_claimed: int
    mean_rerun: float
    mean_claimed: float
    std_rerun: float
    std_claimed: float
    diff: float  # mean_rerun - mean_claimed
    se: float
    t: float
    df: float  # Welch-Satterthwaite
    p_value: float
    confidence: float
    ci: tuple[float, float]  # two-sided interval for diff

    def differs(self, alpha: float) -> bool:
        return self.p_value < alpha


def welch_two_sided(rerun: Sequence[float], claimed: Sequence[float], confidence: float = 0.95) -> WelchTwoSided:
    """scipy's ttest_ind(rerun, claimed, equal_var=False), with its interval and the names a reviewer reads.

    Raises PgolfError for fewer than 2 values on a side, NaN values, or zero spread on both sides.
    """
    xr = _as_values(rerun, "Welch test (rerun runs)")
    xc = _as_values(claimed, "Welch test (claimed runs)")
    diff, se, df = _welch(xr, xc, "Welch test of rerun vs claim")
    t = diff / se
    ci, _ = _intervals(diff, se, df, confidence, "two-sided")
    return WelchTwoSided(
        n_rerun=int(xr.size), n_claimed=int(xc.size), mean_rerun=float(xr.mean()), mean_claimed=float(xc.mean()),
        std_rerun=float(xr.std(ddof=1)), std_claimed=float(xc.std(ddof=1)), diff=diff, se=se, t=t, df=df,
        p_value=_p_from_t(t, df, "two-sided"), confidence=confidence, ci=ci,
    )


def detectable_difference(n_rerun: int, n_claimed: int, std: float, alpha: float = 0.05,
                          power: float = 0.8) -> float:
    """Smallest true |mean difference| a two-sided two-sample t-test at `alpha` detects with `power`,
    when both sides have standard deviation `std` (noncentral t, df = n_rerun + n_claimed - 2)."""
    if min(n_rerun, n_claimed) < 2:
        raise PgolfError(f"detectable difference: {n_rerun} rerun and {n_claimed} claimed run(s); need 2 each")
    if not std > 0:
        raise PgolfError(f"detectable difference: std {std!r} must be > 0")
    df = n_rerun + n_claimed - 2
    scale = math.sqrt(1.0 / n_rerun + 1.0 / n_claimed)
    crit = _t_ppf(1.0 - alpha / 2.0, df)
    from scipy.optimize import brentq  # noqa: PLC0415 (a root finder: here only, not at every import)

    def shortfall(nc: float) -> float:
        lower = _nct_cdf(-crit, df, nc)  # the wrong-sign rejections; NaN once it underflows
        return _nct_sf(crit, df, nc) + (lower if math.isfinite(lower) else 0.0) - power

    high = 1.0
    while shortfall(high) < 0.0:
        high *= 2.0
    nc = brentq(shortfall, 0.0, high)
    return float(nc * std * scale)
