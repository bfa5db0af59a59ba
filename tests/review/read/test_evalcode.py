"""Illegal evaluation read from code (issue 28 part 3), each class as a generated script: score-first TTT is
legal, update-then-score is not; epochs over the validation set before the score; pre-quantization TTT; SLOT;
an n-gram key holding the target; a PPM mixture; a path the run's settings switch off is dead."""

from __future__ import annotations

from pgolf.review.read.codeblocks import defaults, needed
from pgolf.review.read.evalcode import read_evalcode
from pgolf.review.read.reach import live
from pgolf.review.rules.examples import record

EVAL = '''
def eval_val(model, val_tokens):
    val_loss_sum = 0.0
    for i in range(0, 1000, 64):
        val_loss_sum += model(val_tokens[i:i + 64])
    return val_loss_sum
'''

SCORE_FIRST = '''
def eval_val_ttt(model, opt, val_tokens, chunks):
    loss_sum = 0.0
    for ci in range(chunks):
        chunk = val_tokens[ci * 64:(ci + 1) * 64]
        with torch.inference_mode():
            loss_sum += model(chunk)
        for _ep in range(args.ttt_epochs):
            model(chunk).backward()
            opt.step()
    return loss_sum

def main():
    eval_val_ttt(model, opt, val_tokens, 10)
'''

EPOCHS_THEN_SCORE = '''
class Hyperparameters:
    ttt_enabled = bool(int(os.environ.get("TTT_ENABLED", "0")))

def ttt_adapt(model, opt, val_tokens, epochs):
    for _ in range(epochs):
        for i in range(0, 1000, 64):
            loss = model(val_tokens[i:i + 64])
            loss.backward()
            opt.step()
''' + EVAL + '''
def main():
    if args.ttt_enabled:
        ttt_adapt(model, opt, val_tokens, 60)
    eval_val(model, val_tokens)
'''


def kinds(source: str) -> list[str]:
    return [f.kind for f in read_evalcode(source).facts]


def test_score_first_ttt_is_legal():
    assert kinds(SCORE_FIRST + EVAL) == []


def test_an_update_before_the_score_of_the_same_chunk_is_found_with_its_line():
    swapped = SCORE_FIRST.replace('''        with torch.inference_mode():
            loss_sum += model(chunk)
        for _ep in range(args.ttt_epochs):
            model(chunk).backward()
            opt.step()''', '''        for _ep in range(args.ttt_epochs):
            model(chunk).backward()
            opt.step()
        with torch.inference_mode():
            loss_sum += model(chunk)''')
    facts = read_evalcode(swapped).facts
    assert [(f.kind, f.line, f.function) for f in facts] == [("update_then_score", 7, "eval_val_ttt")]


def test_epochs_over_the_validation_set_before_the_score_and_the_setting_that_reaches_them():
    code = read_evalcode(EPOCHS_THEN_SCORE)
    (fact,) = code.facts
    assert (fact.kind, fact.function, fact.guards) == ("train_on_val", "main", ("ttt_enabled",))
    assert code.defaults["ttt_enabled"] == "0"
    assert not live(fact, code, {})  # the default is off and the log says nothing
    assert live(fact, code, {"ttt_enabled": "1"})
    assert live(fact, code, {}, lambda: "ttt:start lr=0.0005 epochs=60\nttt_epoch:1/60 loss:1.96\n")
    assert not live(fact, code, {"ttt_enabled": "False"})


def test_training_on_validation_tokens_then_quantizing_is_pre_quant_ttt():
    script = EPOCHS_THEN_SCORE.replace("    eval_val(model, val_tokens)\n",
                                       "    quantize_int6(model)\n    eval_val(model, val_tokens)\n")
    assert kinds(script) == ["pre_quant"]


def test_slot_a_delta_fitted_per_batch_on_the_tokens_it_scores():
    slot = '''
def eval_slot(model, val_tokens, steps):
    loss_sum = 0.0
    for bi in range(0, 1000, 64):
        x = val_tokens[bi:bi + 64]
        delta = torch.zeros(1, 1, 512, requires_grad=True)
        opt = torch.optim.AdamW([delta], lr=0.01)
        for _ in range(steps):
            model(x, delta).backward()
            opt.step()
        with torch.no_grad():
            loss_sum += model(x, delta)
    return loss_sum

def main():
    if args.slot_enabled:
        eval_slot(model, val_tokens, args.slot_steps)
'''
    code = read_evalcode(slot)
    (fact,) = code.facts
    assert fact.kind == "slot" and fact.line == 9 and "slot_enabled" in fact.guards
    assert not live(fact, code, {"slot_enabled": "0"})


def test_an_ngram_key_holding_the_target_is_found_a_context_key_is_not():
    bad = '''
def eval_ngram(val_tokens, table, n):
    loss_sum = 0.0
    for i in range(n):
        ctx_hash = hash(val_tokens[i - 3:i])
        tgt_np = val_tokens[i]
        full_key = (ctx_hash ^ (tgt_np * 1000003)) & 4095
        loss_sum += table[full_key]
    return loss_sum

def main():
    eval_ngram(val_tokens, table, 100)
'''
    assert kinds(bad) == ["target_in_key"]
    good = bad.replace("full_key = (ctx_hash ^ (tgt_np * 1000003)) & 4095", "full_key = ctx_hash & 4095") \
        .replace("table[full_key]", "table[full_key][tgt_np]")
    assert kinds(good) == []


def test_a_ppm_model_used_at_evaluation_and_an_unused_one():
    script = "class PPMModel:\n    def score(self, b):\n        return b\n\ndef main():\n    PPMModel().score(1)\n"
    assert kinds(script) == ["ppm"]
    assert kinds("def ppm_unused():\n    return 1\n\ndef main():\n    pass\n") == []


def test_a_script_without_any_such_function_is_not_parsed():
    assert needed("def main():\n    model(x).backward()\n    opt.step()\n") == []
    assert read_evalcode("def broken(:\n").facts == ()


def test_defaults_read_from_the_environment_lookups():
    d = defaults("class H:data_dir=os.environ.get('DATA_DIR','./d');ttt_epochs=int(os.environ.get('TTT_EPOCHS',3))")
    assert d["ttt_epochs"] == "3" and d["data_dir"] == "./d"


def test_a_record_whose_run_reaches_the_epochs_has_the_error_naming_the_line():
    rec = record(submission_json='{"val_bpb": 1.2}', train_gpt_py=EPOCHS_THEN_SCORE,
                 train_seed1_log="Hyperparameters:\n  ttt_enabled: 1\nseed:1\nfinal val_loss:2.0 val_bpb:1.2").rec
    found = [f for f in rec.flags if f.rule == "eval.train_on_val"]
    assert found and found[0].severity == "error" and "train_gpt.py:" in found[0].text
    off = record(submission_json='{"val_bpb": 1.2}', train_gpt_py=EPOCHS_THEN_SCORE,
                 train_seed1_log="Hyperparameters:\n  ttt_enabled: 0\nseed:1\nfinal val_loss:2.0 val_bpb:1.2").rec
    assert not [f for f in off.flags if f.rule.startswith("eval.") and f.severity == "error"]


def test_a_name_alone_is_a_warning_when_the_code_was_read():
    rec = record(submission_json='{"name": "PreQuantTTT 10ep", "val_bpb": 1.2}', train_gpt_py=EVAL,
                 train_seed1_log="seed:1\nfinal val_loss:2.0 val_bpb:1.2").rec
    named = [f for f in rec.flags if f.rule == "eval.named_technique"]
    assert [f.severity for f in named] == ["warn"]


def test_a_full_key_returned_to_the_caller_and_the_least_guarded_call_path():
    script = '''
def ngram_keys(tokens, pos, primes, mask):
    h = tokens[pos - 1] * primes[0]
    ctx_idx = h & mask
    full_idx = (h ^ (tokens[pos] * primes[1])) & mask
    return ctx_idx, full_idx

def eval_val_sliding(val_tokens, tables, n):
    loss_sum = 0.0
    for i in range(n):
        ck, fk = ngram_keys(val_tokens, i, P, M)
        loss_sum += tables[fk]
    return loss_sum

def main():
    if args.eval_only:
        eval_val_sliding(val_tokens, tables, 10)
        return
    eval_val_sliding(val_tokens, tables, 10)
'''
    (fact,) = read_evalcode(script).facts
    assert (fact.kind, fact.line, fact.guards) == ("target_in_key", 5, ())


def test_a_guard_on_a_local_copy_of_a_setting_is_the_setting():
    script = '''
def eval_val_sliding(args, model, val_tokens):
    loss_sum = 0.0
    use_slot = getattr(args, "slot_enabled", False)
    for bi in range(0, 1000, 64):
        x = val_tokens[bi:bi + 64]
        if use_slot:
            delta = torch.zeros(1, 512, requires_grad=True)
            opt = torch.optim.AdamW([delta])
            for _ in range(args.slot_steps):
                model(x, delta).backward()
                opt.step()
        loss_sum += model(x)
    return loss_sum

def main():
    eval_val_sliding(args, model, val_tokens)
'''
    code = read_evalcode(script)
    (fact,) = code.facts
    assert fact.guards == ("slot_enabled",) and not live(fact, code, {"slot_enabled": "False"})


def test_a_path_off_by_default_counts_when_the_submission_says_it_used_it():
    script = EPOCHS_THEN_SCORE  # TTT_ENABLED defaults to 0; the run command set it, the log does not print it
    log = "seed:1\nfinal val_loss:2.0 val_bpb:1.2"
    quiet = record(submission_json='{"val_bpb": 1.2}', train_gpt_py=script, train_seed1_log=log).rec
    assert not [f for f in quiet.flags if f.rule == "eval.train_on_val"]
    said = record(submission_json='{"val_bpb": 1.2}', train_gpt_py=script, train_seed1_log=log,
                  README_md="# Record: 11L + TTT 30ep\n").rec
    assert [f.severity for f in said.flags if f.rule == "eval.train_on_val"] == ["error"]
