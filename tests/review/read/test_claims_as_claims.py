"""Claims read as claims (issue 28 part 4), each class as a generated fixture: a 0.0 placeholder, a README
target range or another PR's score quoted in a README is no claim; `average_ttt_bpb` is; a last line without a
trailing newline is not a cut-off log; a best-seed headline and `the top 3 of 5` are findings; a development
run in another setting is not pooled with the claimed runs."""

from __future__ import annotations

import json
from decimal import Decimal

from pgolf.review.read.claim import read_claim_bytes, readme_result
from pgolf.review.read.log import read_log_text
from pgolf.review.read.readme import readme_selected
from pgolf.review.rules.examples import record


def _rules(x) -> set[str]:
    return {f.rule for f in x.rec.flags}


def test_a_zero_placeholder_is_no_claim():
    c = read_claim_bytes(b'{"name": "X", "val_loss": 0.0, "val_bpb": 0.0, "bytes_total": 0}', "submission.json")
    assert c.val_bpb is None and c.val_loss is None and not c.claims_values
    assert any("placeholder" in w for w in c.warnings)


def test_readme_numbers_that_are_not_the_submissions_own_result():
    assert readme_result("**Conservative total: -0.02 to -0.047 BPB → target ~1.072-1.099 BPB**") is None
    assert readme_result("Adds X to the PR #1736 stack (CaseOps, val_bpb=1.06549).\n**val_bpb = pending**") is None
    assert readme_result("- Baseline (NaiveBaseline) val_bpb: 1.2244 (post-quant roundtrip)") is None
    assert readme_result("val_bpb 1.0810 to 1.0850 expected") is None
    assert readme_result("PR #1736 had val_bpb 1.06549.\n\n**val_bpb: 1.0620** (3-seed mean)") == Decimal("1.0620")


def test_a_readme_that_quotes_another_prs_score_gives_no_claim_to_match():
    x = record(submission_json='{"name": "X", "val_bpb": null, "seeds": [1]}',
               README_md="Builds on PR #1736 (val_bpb 1.06549). **val_bpb = pending**",
               train_seed1_log="seed:1\nfinal val_loss:2.0000 val_bpb:1.0700")
    assert x.rec.claim_supported is None and "claim.unsupported" not in _rules(x)


def test_an_average_ttt_key_is_the_headline_and_each_seeds_ttt_score_its_claim():
    data = {"seeds": [42, 314], "average_ttt_bpb": 1.08496397,
            "results": [{"seed": s, "pre_quant_val_bpb": 1.09, "quantized_ttt_val_bpb": v}
                        for s, v in ((42, 1.08467459), (314, 1.08525334))]}
    c = read_claim_bytes(json.dumps(data).encode(), "submission.json")
    assert (c.headline_key, c.val_bpb) == ("average_ttt_bpb", Decimal("1.08496397"))
    assert {s: str(sc.val_bpb) for s, sc in c.seeds.items()} == {42: "1.08467459", 314: "1.08525334"}


def test_a_last_line_without_a_trailing_newline_is_whole_when_it_reads_whole():
    head = "seed:1\nstep:100/200 val_loss:2.1000 val_bpb:1.2199\n"
    whole = read_log_text(head + "final_int8_zlib_roundtrip val_loss:2.0741 val_bpb:1.2284", "a.log")
    assert not whole.truncated and whole.stage("final_int8_zlib_roundtrip").bpb == 1.2284
    timed = read_log_text("seed:1\nfinal val_loss:2.0741 val_bpb:1.2284 eval_time:5599ms", "b.log")
    assert not timed.truncated and timed.stage("final").bpb == 1.2284
    cut = read_log_text(head + "final_int8_zlib_roundtrip val_loss:2.0741 val_bpb:1.22", "c.log")
    assert cut.truncated and cut.stage("final_int8_zlib_roundtrip") is None


def test_a_best_seed_headline_of_named_seeds_is_a_finding():
    logs = {f"train_seed{s}_log": f"seed:{s}\nfinal val_loss:2.0 val_bpb:{b}" for s, b in
            ((1, "1.1000"), (2, "1.2000"), (3, "1.3000"))}
    x = record(submission_json='{"val_bpb": 1.1000, "seeds": [1, 2, 3]}', **logs)
    one = [f.text for f in x.rec.flags if f.rule == "claim.one_run"]
    assert one and "the best run's score" in one[0] and len(x.rec.counted) == 3


def test_the_readme_saying_top_k_of_n_is_a_finding():
    assert readme_selected("We ran five seeds and kept the best 3 of 5 runs.")[:2] == (3, 5)
    assert readme_selected("Only the top 3 logs are included here")[:2] == (3, None)
    assert readme_selected("Mean of 3 seeds (best seed 1.0801)") is None
    x = record(submission_json='{"val_bpb": 1.2}', train_seed1_log="seed:1\nfinal val_loss:2 val_bpb:1.2",
               README_md="Results: only the top 3 seeds are reported.")
    assert "claim.selected_seeds" in _rules(x)


def test_a_development_run_in_another_setting_is_not_pooled_and_does_not_decide():
    run = "world_size:{}\nmax_wallclock_seconds:{}\nseed:1337\nfinal val_loss:2.0 val_bpb:{}"
    x = record(submission_json='{"val_bpb": 1.2000}', train_v0_txt=run.format(8, 600, "1.2300"),
               train_v1_txt=run.format(2, 2400, "1.1900"), train_v2_txt=run.format(8, 600, "1.2000"))
    assert [r.name for r in x.rec.counted] == ["train_v0.txt", "train_v2.txt"]
    assert "claim.not_pooled" in _rules(x)
    errors_on_claimed = [f for f in x.rec.flags if f.severity == "error" and "train_v1" not in (f.run or "")]
    assert not errors_on_claimed
