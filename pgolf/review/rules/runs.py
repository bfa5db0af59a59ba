"""Rules about the runs themselves: readable, finite, on 8 GPUs, enough of them, one stage, distinct seeds."""

from __future__ import annotations

import math
from collections import defaultdict

from pgolf.review.model import Finding
from pgolf.review.read.log import canonical_stage
from pgolf.review.rules.inputs import PreviousInput, RunInput, RunsInput
from pgolf.review.rules.registry import rule
from pgolf.review.settings import WORLD_SIZE

README = "https://github.com/openai/parameter-golf/blob/main/README.md"
# "3 seeds": asked for in review from the end of March on; the date is derived from main (runs_from)
SEEDS = "https://github.com/openai/parameter-golf/pull/1019"


@rule("runs.nonfinite", severity="error", scope="log")
def nonfinite(x: RunInput) -> list[Finding]:
    """A stage that printed nan or inf: the run diverged or its evaluation broke; never silently passed over.

    >>> from pgolf.review.rules.examples import one, texts
    >>> texts(nonfinite(one("final_int8_zlib_roundtrip val_loss:nan val_bpb:nan")))
    ['error: stage `final_int8_zlib_roundtrip` printed val_loss nan val_bpb nan: not a finite score (a diverged run or a broken evaluation)']
    """
    bad = [s for s in x.run.ordered_stages() if any(v is not None and not math.isfinite(v) for v in (s.bpb, s.loss))]
    return [Finding(f"stage `{s.name}` printed val_loss {s.loss} val_bpb {s.bpb}: not a finite score "
                    "(a diverged run or a broken evaluation)", x.who) for s in bad]


@rule("runs.unreadable", severity="error", scope="log")
def unreadable(x: RunInput) -> list[Finding]:
    """A log the reader could not use (no stage with a score, unreadable bytes): left out of the test.
    The run rules are not applied to it.

    >>> from pgolf.review.rules.examples import one, texts
    >>> texts(unreadable(one("step:1/20000 train_loss:6.9")))[0].endswith("; left out of the test")
    True
    """
    return [Finding(f"{x.run.error}; left out of the test", x.who)] if x.run.error else []


@rule("runs.world_size_missing", severity="warn", scope="run", source=README)
def world_size_missing(x: RunInput) -> list[Finding]:
    """A log that prints no world size: the 8xH100 setting cannot be checked.

    >>> from pgolf.review.rules.examples import one, texts
    >>> texts(world_size_missing(one("final_int8_zlib_roundtrip val_loss:2.0 val_bpb:1.2")))
    ['warn: no world_size; cannot check that it ran on 8 GPUs']
    """
    return [Finding(f"no world_size; cannot check that it ran on {WORLD_SIZE} GPUs", x.who)] \
        if x.run.world_size is None else []


@rule("runs.world_size", severity="error", scope="run", source=README)
def world_size(x: RunInput) -> list[Finding]:
    """A run on another GPU count than the record track's 8xH100.

    >>> from pgolf.review.rules.examples import one, texts
    >>> texts(world_size(one("world_size:2 grad_accum_steps:4", "final_int8_zlib_roundtrip val_loss:2.0 val_bpb:1.2")))
    ['error: world size 2 (grad_accum_steps 4), not 8: not the 8xH100 setting']
    """
    r = x.run
    if r.world_size is None or r.world_size == WORLD_SIZE:
        return []
    extra = f" (grad_accum_steps {r.grad_accum_steps})" if r.grad_accum_steps is not None else ""
    return [Finding(f"world size {r.world_size}{extra}, not {WORLD_SIZE}: not the 8xH100 setting", x.who)]


@rule("runs.no_seed", severity="warn", scope="counted", source=SEEDS)
def no_seed(x: RunsInput) -> list[Finding]:
    """A counted run that prints no seed: seed-to-seed variance cannot be told from reruns.

    >>> from pgolf.review.rules.examples import log, several, texts
    >>> texts(no_seed(several(log("final_int8_zlib_roundtrip val_loss:2.0 val_bpb:1.2", file="a.log"))))
    ['warn: no seed line']
    """
    return [Finding("no seed line", x.label[id(r)]) for r in x.runs if r.seed is None and r.ok]


@rule("runs.duplicate", severity="warn", scope="counted")
def duplicate(x: RunsInput) -> list[Finding]:
    """The same log content more than once: each copy would count as a run.

    >>> from pgolf.review.rules.examples import log, several, texts
    >>> from pgolf.review.read.log import with_hash
    >>> a, b = (with_hash([log("seed:1", "final val_loss:2.0 val_bpb:1.2", file=f)], b"same")[0] for f in ("a.log", "b.log"))
    >>> texts(duplicate(several(a, b)))
    ['warn: the same log content 2 times; it counts once per copy']
    """
    by_hash: dict[str, list[str]] = defaultdict(list)
    for r in x.runs:
        if r.sha256:
            by_hash[r.sha256].append(x.label[id(r)])
    return [Finding(f"the same log content {len(same)} times; it counts once per copy", ", ".join(same))
            for same in by_hash.values() if len(same) > 1]


@rule("runs.repeated_seed", severity="warn", scope="counted", source=SEEDS)
def repeated_seed(x: RunsInput) -> list[Finding]:
    """Runs that share a seed: their spread is run-to-run noise, not seed-to-seed variance.

    >>> from pgolf.review.rules.examples import log, several, texts
    >>> runs = [log("seed:7", f"final val_loss:2.0 val_bpb:1.2{i}", file=f"r{i}.log") for i in range(2)]
    >>> texts(repeated_seed(several(*runs)))
    ['warn: seed 7 is used by all 2 runs: their spread is run-to-run (GPU) noise, not seed-to-seed variance']
    """
    by_seed: dict[int, list[str]] = defaultdict(list)
    for r in x.runs:
        if r.seed is not None and r.ok:
            by_seed[r.seed].append(x.label[id(r)])
    good = [r for r in x.runs if r.ok]
    out = []
    for seed, who in sorted(by_seed.items()):
        if len(who) > 1:
            every = "all " if len(who) == len(good) else ""
            out.append(Finding(f"seed {seed} is used by {every}{len(who)} runs: their spread is run-to-run (GPU) "
                               "noise, not seed-to-seed variance", ", ".join(who)))
    return out


@rule("runs.too_few", severity="warn", scope="counted", source=SEEDS)
def too_few(x: RunsInput) -> list[Finding]:
    """Fewer counted runs than the practice asked for (3 seeds).

    >>> from pgolf.review.rules.examples import log, several, texts
    >>> texts(too_few(several(log("seed:1", "final val_loss:2.0 val_bpb:1.2", file="a.log"))))
    ['warn: only 1 run(s) with the stage under test (a.log): fewer than 3']
    """
    good = [r for r in x.runs if r.ok]
    if len(good) >= x.min_runs:
        return []
    names = ", ".join(x.label[id(r)] for r in good) or "none"
    return [Finding(f"only {len(good)} run(s) with the stage under test ({names}): fewer than {x.min_runs}")]


@rule("runs.mixed_stages", severity="warn", scope="counted")
def mixed_stages(x: RunsInput) -> list[Finding]:
    """Counted runs that report different stages: their scores are not one measurement.

    >>> from pgolf.review.rules.examples import log, several, texts
    >>> a = log("seed:1", "final_int8_zlib_roundtrip val_loss:2.0 val_bpb:1.2", file="a.log")
    >>> b = log("seed:2", "final_int6_sliding_window val_loss:2.0 val_bpb:1.2", file="b.log")
    >>> texts(mixed_stages(several(a, b)))
    ['warn: runs report different stages: a.log: final_int8_zlib_roundtrip; b.log: final_int6_sliding_window (name one with --metric)']
    """
    good = [r for r in x.runs if r.ok]
    if len({canonical_stage(s) for s in {r.metric for r in good if r.metric}}) <= 1:
        return []
    return [Finding("runs report different stages: " + "; ".join(f"{x.label[id(r)]}: {r.metric}" for r in good)
                    + " (name one with --metric)")]


@rule("runs.previous_stage", severity="warn", scope="previous")
def previous_stage(x: PreviousInput) -> list[Finding]:
    """check-logs: a --previous log without the stage under test; its own default stage is compared.

    >>> from pgolf.review.rules.examples import log, texts
    >>> from pgolf.review.rules.inputs import PreviousInput
    >>> texts(previous_stage(PreviousInput(log("final_int8_zlib_roundtrip val_loss:2.0 val_bpb:1.2"), "legal_ttt")))
    ['warn: no `legal_ttt` stage; its own `final_int8_zlib_roundtrip` is used']
    """
    return [Finding(f"no `{x.metric}` stage; its own `{x.run.metric}` is used", f"previous {x.run.name}")]
