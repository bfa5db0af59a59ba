"""The claim against the logs: submission.json readable and finite, its headline shown by a stage of the
logs, each claimed seed logged and its value shown, the headline formed from the runs it names, and the
README's per-seed numbers shown."""

from __future__ import annotations

from pgolf.review.model import Finding
from pgolf.review.read.claim import matches
from pgolf.review.read.names import seed_from_name
from pgolf.review.read.readme import readme_selected
from pgolf.review.read.record import (
    companion,
    headline,
    headline_seed,
    not_claimed_file,
    other_setting,
    run_seed,
    shows,
)
from pgolf.review.rules.inputs import RecordInput, RecordRunInput
from pgolf.review.rules.log import SEED_NAME
from pgolf.review.rules.registry import rule

SEEDS = "https://github.com/openai/parameter-golf/pull/1019"


@rule("claim.json_problem", severity="error", scope="claim")
def json_problem(x: RecordInput) -> list[Finding]:
    r"""submission.json could not be read (an error: the logs' default stage is tested), or reading it found a
    problem (a warning).

    >>> from pgolf.review.rules.examples import record, texts
    >>> texts(json_problem(record(submission_json="{not json", train_seed1_log="seed:1\nfinal val_loss:2 val_bpb:1.2")))[0][:68]
    'error: 2026-03-19_Example/submission.json: not valid JSON (Expecting'
    """
    c = x.rec.claim
    return [Finding(p + ("" if c is not None else "; the logs' default stage is tested"),
                    severity="warn" if c is not None else "error") for p in x.rec.problems]


@rule("claim.json_caveat", severity="warn", scope="claim")
def json_caveat(x: RecordInput) -> list[Finding]:
    """A caveat the claim reader noted (a headline found under an unusual key, a value read from the README)."""
    return [Finding(w) for w in x.rec.claim.warnings] if x.rec.claim is not None else []


@rule("claim.nonfinite", severity="error", scope="claim")
def nonfinite(x: RecordInput) -> list[Finding]:
    """A claimed number that is nan or inf: not a claim.

    >>> from pgolf.review.rules.examples import record, texts
    >>> texts(nonfinite(record(submission_json='{"val_bpb": NaN}', train_seed1_log="final val_loss:2 val_bpb:1.2")))
    ["error: submission.json's val_bpb is not a finite number: not a claim; fix it"]
    """
    c = x.rec.claim
    return [Finding(f"submission.json's {k} is not a finite number: not a claim; fix it") for k in c.nonfinite] \
        if c is not None else []


@rule("claim.duplicate_seed", severity="error", scope="claim")
def duplicate_seed(x: RecordInput) -> list[Finding]:
    """A seed listed twice in submission.json's per-seed results."""
    c = x.rec.claim
    return [Finding(f"seed {s} is listed more than once in submission.json's per-seed results")
            for s in c.duplicate_seeds] if c is not None else []


@rule("claim.missing", severity="warn", scope="claim")
def missing(x: RecordInput) -> list[Finding]:
    r"""No submission.json: nothing claimed to check.

    >>> from pgolf.review.rules.examples import record, texts
    >>> texts(missing(record(train_seed1_log="seed:1\nfinal val_loss:2.0 val_bpb:1.2")))
    ["warn: no submission.json: nothing claimed to check; the logs' default stage is tested"]
    """
    if x.rec.claim is not None or x.rec.problems:
        return []
    if x.rec.files is not None and x.rec.files.left_out():  # an unreadable folder, a submodule: it may hold one
        return [Finding("no submission.json among the files that could be read (see the files left out): no claim "
                        "checked; the logs' default stage is tested")]
    return [Finding("no submission.json: nothing claimed to check; the logs' default stage is tested")]


@rule("claim.unsupported", severity="error", scope="claim")
def unsupported(x: RecordInput) -> list[Finding]:
    """A claimed score that no stage of the logs shows at its printed digits (a stale log, a rerun that did
    not reproduce it).

    >>> from pgolf.review.rules.examples import record, texts
    >>> texts(unsupported(record(submission_json='{"val_bpb": 1.1}', train_seed1_log="final val_loss:2 val_bpb:1.2")))
    ['error: claimed val_bpb 1.1: no stage of the logs shows it at its printed digits (closest: `final` mean 1.200000); claim unsupported']
    """
    rec, c = x.rec, x.rec.claim
    if c is None or rec.claim_supported is not False:
        return []
    value, unit = headline(c)
    shown = (f"{c.headline_key} {value}" if unit == "bpb" else f"val_loss {value}") if value is not None \
        else "per-seed values"
    return [Finding(f"claimed {shown}: no stage of the logs shows it at its printed digits"
                    + (f" (closest: {rec.closest})" if rec.closest else "") + "; claim unsupported")]


@rule("claim.seed_without_log", severity="error", scope="claim", source=SEEDS)
def seed_without_log(x: RecordInput) -> list[Finding]:
    r"""A claimed seed that no log has (by the seed it prints or its file name).

    >>> from pgolf.review.rules.examples import record, texts
    >>> texts(seed_without_log(record(submission_json='{"val_bpb": 1.2, "seeds": [1, 2]}',
    ...                               train_seed1_log="seed:1\nfinal val_loss:2.0 val_bpb:1.2")))
    ['error: seed 2 is claimed in submission.json but no log has that seed']
    """
    rec, c = x.rec, x.rec.claim
    if c is None:
        return []
    logged = {run_seed(r) for r in rec.runs} | {seed_from_name(r.file) for r in rec.runs}
    return [Finding(f"seed {seed} is claimed in {c.seeds_from} but no log has that seed")
            for seed in c.seeds if seed not in logged]


def _claimed(x: RecordRunInput) -> bool:
    return x.rec.claim is not None and bool(x.rec.claim.seeds)


@rule("claim.seed_mismatch", severity="warn", scope="claim-run", since="2026-03-18", source=SEED_NAME)
def seed_mismatch(x: RecordRunInput) -> list[Finding]:
    r"""A log that prints another seed than its file name, whose seed submission.json claims: a warning, as a
    published row shows (the claimed value decides, `claim.seed_value`).

    >>> from pgolf.review.rules.examples import record_run, texts
    >>> texts(seed_mismatch(record_run("train_seed2.log", submission_json='{"val_bpb": 1.2, "seeds": [1, 2]}',
    ...     train_seed1_log="seed:1\nfinal val_loss:2 val_bpb:1.2", train_seed2_log="seed:3\nfinal val_loss:2 val_bpb:1.2")))
    ['warn: seed mismatch: the log prints seed 3, its file name and submission.json say 2']
    """
    if not _claimed(x):
        return []
    c, seed, named = x.rec.claim, run_seed(x.run), seed_from_name(x.run.file)
    if seed in c.seeds or named not in c.seeds or named == seed:
        return []
    return [Finding(f"seed mismatch: the log prints seed {seed}, its file name and submission.json say {named}",
                    x.run.name)]


@rule("claim.seed_not_claimed", severity="warn", scope="claim-run", source=SEEDS)
def seed_not_claimed(x: RecordRunInput) -> list[Finding]:
    r"""A log of a seed submission.json does not claim: more logs than claimed runs (a selection?).

    >>> from pgolf.review.rules.examples import record_run, texts
    >>> texts(seed_not_claimed(record_run("train_seed3.log", submission_json='{"val_bpb": 1.2, "seeds": [1]}',
    ...     train_seed1_log="seed:1\nfinal val_loss:2 val_bpb:1.2", train_seed3_log="seed:3\nfinal val_loss:2 val_bpb:1.3")))
    ["warn: the log's seed 3 is not among submission.json's seeds (1): more logs than claimed runs (selection?)"]
    """
    if not _claimed(x):
        return []
    c, seed, named = x.rec.claim, run_seed(x.run), seed_from_name(x.run.file)
    if seed in c.seeds or (named in c.seeds and named != seed):
        return []
    claimed = ", ".join(map(str, sorted(c.seeds)))
    return [Finding(f"the log's seed {seed} is not among submission.json's seeds ({claimed}): more logs than "
                    "claimed runs (selection?)", x.run.name)]


@rule("claim.second_log", severity="warn", scope="claim-run", source=SEEDS)
def second_log(x: RecordRunInput) -> list[Finding]:
    """A second readable log of a claimed seed, not counted."""
    if not _claimed(x):
        return []
    seed = run_seed(x.run)
    if seed not in x.rec.claim.seeds or x.run in x.rec.counted or not x.run.ok:
        return []
    return [Finding(f"a second log of seed {seed}, not counted: more logs than claimed runs", x.run.name)]


@rule("claim.seed_value", severity="error", scope="claim-run")
def seed_value(x: RecordRunInput) -> list[Finding]:
    r"""A counted log whose stage does not show the val_bpb submission.json claims for its seed.

    >>> from pgolf.review.rules.examples import record_run, texts
    >>> texts(seed_value(record_run("train_seed1.log", submission_json='{"val_bpb": 1.2, "seed_results": {"1": '
    ...     '{"val_bpb": 1.2500}}}', train_seed1_log="seed:1\nfinal val_loss:2.0 val_bpb:1.2000")))
    ["error: seed 1: submission.json claims val_bpb 1.2500, the log's `final` shows 1.2"]
    """
    if not _claimed(x):
        return []
    rec, r, c = x.rec, x.run, x.rec.claim
    seed, named = run_seed(r), seed_from_name(r.file)
    if seed not in c.seeds or r not in rec.counted:
        return []
    st, sc = r.stage(rec.stage) if rec.stage else None, c.seeds[seed]
    if named in c.seeds and named != seed and st is not None and shows(r, rec.stage, c.seeds[named].val_bpb,
                                                                          c.seeds[named].val_loss):
        return []  # counted as its file name's seed, whose claim it shows: the mismatch is flagged once
    if sc.val_bpb is None or st is None or matches(st.bpb, sc.val_bpb, st.bpb_digits):
        return []
    return [Finding(f"seed {seed}: submission.json claims val_bpb {sc.val_bpb}, the log's `{st.name}` shows {st.bpb}",
                    r.name)]


@rule("claim.readme_numbers", severity="warn", scope="readme")
def readme_numbers(x: RecordInput) -> list[Finding]:
    r"""Per-seed numbers in the README that no stage of the seed's log shows.

    >>> from pgolf.review.rules.examples import record, texts
    >>> texts(readme_numbers(record(submission_json='{"val_bpb": 1.2}', train_seed1_log="seed:1\nfinal val_loss:2 val_bpb:1.2000",
    ...                             README_md="| Seed | val_bpb |\n|---|---|\n| 1 | 1.2500 |\n")))
    ["warn: README per-seed numbers no stage of the seed's log shows: seed 1 1.2500"]
    """
    missing = x.rec.readme_seeds.missing
    return [Finding(f"README per-seed numbers no stage of the seed's log shows: {', '.join(missing)}")] \
        if missing else []


@rule("claim.not_a_run", severity="warn", scope="file")
def not_a_run(x: RecordRunInput) -> list[Finding]:
    """A file beside the claimed runs that holds no run (a summary, a crashed attempt): noted, no error."""
    return [Finding(f"{x.run.error}; not a claimed run", x.who)] if not_claimed_file(x.rec, x.run) else []


@rule("claim.companion", severity="warn", scope="file")
def companion_log(x: RecordRunInput) -> list[Finding]:
    r"""A log without the claimed stage beside a counted log of its seed (a separate train or eval log):
    checked for the rules, not counted.

    >>> from pgolf.review.rules.examples import record_run, texts
    >>> texts(companion_log(record_run("eval_seed1.log", submission_json='{"val_bpb": 1.2}',
    ...     train_seed1_log="seed:1\nfinal val_loss:2 val_bpb:1.2", eval_seed1_log="seed:1\nother val_loss:2 val_bpb:1.3")))
    ['warn: no `final` line: a companion log of seed 1, checked for the rules, not counted']
    """
    if not companion(x.rec, x.run):
        return []
    return [Finding(f"no `{x.rec.stage}` line: a companion log of seed {run_seed(x.run)}, checked for the rules, "
                    "not counted", x.who)]


def _ranked(x: RecordInput) -> list:
    """The readable logs the headline could be formed from: of the claimed seeds, when seeds are named."""
    c = x.rec.claim
    return [r for r in x.rec.runs if r.ok and (c is None or not c.seeds or run_seed(r) in c.seeds)]


def _picked(x: RecordInput) -> bool:
    """The headline is formed from some of the readable logs (no per-seed score claimed)."""
    rec = x.rec
    return bool(rec.claim and not rec.claim.seed_values and rec.claim_supported
                and 0 < len(rec.headline_runs) < len(_ranked(x)))


@rule("claim.best_of", severity="warn", scope="headline", source=SEEDS)
def best_of(x: RecordInput) -> list[Finding]:
    r"""The headline is the mean of the best k of n logs: runs picked after the fact?

    >>> from pgolf.review.rules.examples import record, texts
    >>> logs = {f"train_seed{s}_log": f"seed:{s}\nfinal val_loss:2 val_bpb:{b}" for s, b in ((1, "1.10"), (2, "1.20"), (3, "1.30"))}
    >>> texts(best_of(record(submission_json='{"val_bpb": 1.15}', **logs)))
    ['warn: the headline is the mean of the best 2 of 3 logs: runs picked after the fact?']
    """
    head, ranked = x.rec.headline_runs, _ranked(x)
    if not _picked(x) or len(head) <= 1:
        return []
    return [Finding(f"the headline is the mean of the best {len(head)} of {len(ranked)} logs: runs picked after the "
                    "fact?")]


@rule("claim.one_run", severity="warn", scope="headline", source=SEEDS)
def one_run(x: RecordInput) -> list[Finding]:
    r"""The headline is one run's score, not the mean of the logs (all of them are tested).

    >>> from pgolf.review.rules.examples import record, texts
    >>> logs = {f"train_seed{s}_log": f"seed:{s}\nfinal val_loss:2 val_bpb:{b}" for s, b in ((1, "1.10"), (2, "1.20"), (3, "1.30"))}
    >>> texts(one_run(record(submission_json='{"val_bpb": 1.10}', **logs)))
    ["warn: the headline is the best run's score (train_seed1.log), not the mean of the 3 logs; all 3 are tested"]
    """
    head, ranked = x.rec.headline_runs, _ranked(x)
    if not _picked(x) or len(head) != 1:
        return []
    which = "the best" if head[0].val_bpb == min(r.val_bpb for r in ranked) else "one"
    return [Finding(f"the headline is {which} run's score ({head[0].name}), not the mean of the {len(ranked)} logs; "
                    f"all {len(x.rec.counted)} are tested")]


@rule("claim.headline_seed", severity="error", scope="headline", since="2026-03-25", source=SEEDS)
def headline_is_seed(x: RecordInput) -> list[Finding]:
    r"""The headline is one claimed seed's score, not the mean of the claimed runs it lists beside it: the
    best seed reported as the result (the mean is tested). Enforced from the date the practice asked for the
    mean of 3 seeds (a record merged before it is not judged by it; one-run headlines of early records are
    the warning `claim.one_run`).

    >>> from pgolf.review.rules.examples import record, texts
    >>> texts(headline_is_seed(record(submission_json='{"val_bpb": 1.2000, "seed_results": {"1": {"val_bpb": 1.2000}, '
    ...     '"2": {"val_bpb": 1.3000}}}', train_seed1_log="seed:1\nfinal val_loss:2 val_bpb:1.2000",
    ...     train_seed2_log="seed:2\nfinal val_loss:2 val_bpb:1.3000")))
    ["error: the headline 1.2000 is seed 1's score, not the mean of the 2 claimed runs (1.250000); the mean is tested"]
    """
    rec = x.rec
    seed = headline_seed(rec.claim) if rec.claim and rec.claim_supported else None
    if seed is None or rec.mean is None:
        return []
    return [Finding(f"the headline {rec.claim.val_bpb} is seed {seed}'s score, not the mean of the "
                    f"{len(rec.counted)} claimed runs ({rec.mean:.6f}); the mean is tested")]


@rule("claim.selected_seeds", severity="warn", scope="headline", source=SEEDS)
def selected_seeds(x: RecordInput) -> list[Finding]:
    r"""The README says its logs are the best of more runs (`the top 3 of 5 seeds`, `only the best 3 logs`):
    runs picked after the fact, whose mean is biased low.

    >>> from pgolf.review.rules.examples import record, texts
    >>> texts(selected_seeds(record(submission_json='{"val_bpb": 1.2}', train_seed1_log="seed:1\nfinal val_loss:2 val_bpb:1.2",
    ...                             README_md="We ran 5 seeds and report the top 3 of 5.")))
    ["warn: the README says the logs are selected runs ('top 3 of 5'): a mean of picked runs is biased low"]
    """
    found = readme_selected(x.rec.readme)
    if found is None:
        return []
    return [Finding(f"the README says the logs are selected runs ({found[2]!r}): a mean of picked runs is biased "
                    "low", numbers=(("selected", found[0]), ("of", found[1])))]


@rule("claim.not_pooled", severity="warn", scope="claim-run", source=SEEDS)
def not_pooled(x: RecordRunInput) -> list[Finding]:
    r"""A log run in another setting than the claimed runs (2 GPUs for 2400 s beside 8 GPUs for 600 s): a
    development run, not pooled with the claimed runs; its own errors do not decide the submission.

    >>> from pgolf.review.rules.examples import record_run, texts
    >>> run = "world_size:{} grad_accum_steps:1\nmax_wallclock_seconds:{}\nseed:1\nfinal val_loss:2 val_bpb:{}"
    >>> texts(not_pooled(record_run("train_v1.txt", submission_json='{"val_bpb": 1.2000}',
    ...     train_v0_txt=run.format(8, 600, "1.2300"), train_v1_txt=run.format(2, 2400, "1.1900"),
    ...     train_v2_txt=run.format(8, 600, "1.2000"))))
    ["warn: world size 2, the claimed run's 8: a development run beside the claimed ones, not pooled"]
    """
    rec, r = x.rec, x.run
    why = other_setting(r, rec.counted) if r.ok and r not in rec.counted else None
    return [Finding(f"{why}: a development run beside the claimed ones, not pooled", x.run.name)] if why else []
