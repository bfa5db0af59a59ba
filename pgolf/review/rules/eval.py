"""Illegal evaluation, judged from the submission's code and logs, not its name (issue #1017's conditions:
a token's prediction may depend only on what came before it, and each token is scored once, before anything
is learned from it).

`read.evalcode` reads each script of the folder with `ast` (never runs it); `read.reach` says whether a
claimed run's settings reach the line. A finding names the file and line. A name alone (`SLOT`, `n-gram`,
`PPM`, `TTT 30ep` in the folder's name or title) is at most the warning `eval.named_technique`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from pgolf.errors import DataError
from pgolf.review.model import Finding
from pgolf.review.read.config import settings
from pgolf.review.read.evalcode import EvalCode, EvalFact, read_evalcode
from pgolf.review.read.log import ParsedRun
from pgolf.review.read.reach import live
from pgolf.review.read.scripts import Script, log_rel, read_scripts
from pgolf.review.rules.inputs import FolderInput, RecordInput
from pgolf.review.rules.registry import rule
from pgolf.review.sources.folder import read_text

README = "https://github.com/openai/parameter-golf/blob/main/README.md"
CONDITIONS = "https://github.com/openai/parameter-golf/issues/1017"  # the four conditions (C1-C4)
SLOT_RULING = "https://github.com/openai/parameter-golf/pull/1240"
NGRAM_RULING = "https://github.com/openai/parameter-golf/pull/779"
PPM_RULING = "https://github.com/openai/parameter-golf/issues/1872"


def _log_text(r: ParsedRun, x: FolderInput) -> str:
    """The log's text, to see which guarded paths printed their lines ('' without the folder's files)."""
    rel = log_rel(r, x.files) if x.files is not None else None
    try:
        return x.files.read(rel).decode("utf-8", errors="replace") if rel is not None else ""
    except DataError:
        return ""


_CODES: dict[str, EvalCode] = {}  # by the script's sha256: seven rules read each script of 1,825 folders


def _code(s: Script) -> EvalCode:
    key = s.sha256 or "\n".join(s.lines)  # a script built in memory has no hash
    if key not in _CODES:
        _CODES[key] = read_evalcode("\n".join(s.lines))
    return _CODES[key]


def _said(x: FolderInput) -> bool:
    """Does the folder's name or README title name a ruled technique (then a default does not switch it off)?"""
    if x.files is None:
        return False
    return named([x.files.name, _title(read_text(x.files, "README.md") or "")]) is not None


def live_facts(x: FolderInput, kind: str) -> list[tuple[Script, EvalFact, list[str]]]:
    """Each fact of this kind in the folder's scripts, with the claimed runs whose settings reach its line."""
    out = []
    texts: dict[int, str] = {}

    def text_of(r: ParsedRun) -> Callable[[], str]:
        def read() -> str:
            if id(r) not in texts:
                texts[id(r)] = _log_text(r, x)
            return texts[id(r)]
        return read

    said = _said(x)
    for s in x.scripts if x.counted else ():
        code = _code(s)
        for f in (f for f in code.facts if f.kind == kind):
            who = [x.label[id(r)] for r in x.counted if live(f, code, settings(r), text_of(r), not said)]
            if who:
                out.append((s, f, who))
    return out


def _findings(x: FolderInput, kind: str, what: str) -> list[Finding]:
    return [Finding(f"{s.rel}:{f.line} ({f.function}): {what}: {f.detail}", ", ".join(who),
                    numbers=(("file", s.rel), ("line", f.line), ("guards", ", ".join(f.guards) or None)))
            for s, f, who in live_facts(x, kind)[:1]]


_TTT_LOOP = '''def eval_ttt(model, opt, val_tokens, n):
    loss_sum = 0.0
    for i in range(n):
        chunk = val_tokens[i:i + 64]
        for _ in range(3):
            model(chunk).backward()
            opt.step()
        loss_sum += model(chunk)
    return loss_sum

def main():
    eval_ttt(model, opt, val_tokens, 10)
'''


@rule("eval.update_then_score", severity="error", scope="folder", check="code", since="2026-03-18", source=CONDITIONS)
def update_then_score(x: FolderInput) -> list[Finding]:
    """A loop over validation tokens that takes an optimizer step on a chunk before it scores that chunk: the
    score has seen its own targets (score-first TTT, which scores a chunk and then trains on it, is legal).

    >>> from pgolf.review.rules.examples import folder_input, texts
    >>> texts(update_then_score(folder_input("final val_loss:2.0 val_bpb:1.2", script=_TTT_LOOP)))
    ['error: train_gpt.py:6 (eval_ttt): updates on validation tokens before scoring them: line 6 updates before line 8 scores']
    """
    return _findings(x, "update_then_score", "updates on validation tokens before scoring them")


_SLOT = '''def eval_slot(model, val_tokens, n, steps):
    loss_sum = 0.0
    for i in range(n):
        x = val_tokens[i:i + 64]
        delta = torch.zeros(1, 512, requires_grad=True)
        opt = torch.optim.AdamW([delta])
        if steps > 0:
            for _ in range(steps):
                model(x, delta).backward()
                opt.step()
        loss_sum += model(x, delta)
    return loss_sum

def main():
    eval_slot(model, val_tokens, 10, args.slot_steps)
'''


@rule("eval.slot", severity="error", scope="folder", check="code", since="2026-04-02", source=SLOT_RULING)
def adapt_then_score(x: FolderInput) -> list[Finding]:
    """SLOT: a tensor created per batch (a hidden-state delta, a logit bias) is optimized on the batch's
    validation tokens, then the same tokens are scored with it. A path that the run's settings switch off
    (`slot_steps:0`) is no finding.

    >>> from pgolf.review.rules.examples import folder_input, texts
    >>> texts(adapt_then_score(folder_input("final val_loss:2.0 val_bpb:1.2", script=_SLOT)))
    ['error: train_gpt.py:9 (eval_slot): SLOT fits a delta on the tokens it then scores: line 9 updates before line 11 scores']
    >>> texts(adapt_then_score(folder_input("Hyperparameters:", "  slot_steps: 0", "final val_loss:2.0 val_bpb:1.2", script=_SLOT)))
    []
    """
    return _findings(x, "slot", "SLOT fits a delta on the tokens it then scores")


_EPOCHS = '''def ttt_adapt(model, opt, val_tokens, epochs):
    for _ in range(epochs):
        for i in range(0, 1000, 64):
            model(val_tokens[i:i + 64]).backward()
            opt.step()

def eval_val(model, val_tokens):
    loss_sum = 0.0
    for i in range(0, 1000, 64):
        loss_sum += model(val_tokens[i:i + 64])
    return loss_sum

def main():
    if args.ttt_enabled:
        ttt_adapt(model, opt, val_tokens, 30)
    eval_val(model, val_tokens)
'''


@rule("eval.train_on_val", severity="error", scope="folder", check="code", since="2026-03-18", source=README)
def train_on_val(x: FolderInput) -> list[Finding]:
    """A pass that trains on the validation tokens (epochs over the split) before the stage that scores
    them: the model has seen its test set.

    >>> from pgolf.review.rules.examples import folder_input, texts
    >>> texts(train_on_val(folder_input("Hyperparameters:", "  ttt_enabled: 1", "final val_loss:2.0 val_bpb:1.2", script=_EPOCHS)))
    ['error: train_gpt.py:15 (main): trains on the validation tokens before scoring them: ttt_adapt() trains on validation tokens at line 15, before the score at line 16']
    >>> texts(train_on_val(folder_input("Hyperparameters:", "  ttt_enabled: 0", "final val_loss:2.0 val_bpb:1.2", script=_EPOCHS)))
    []
    """
    return _findings(x, "train_on_val", "trains on the validation tokens before scoring them")


@rule("eval.pre_quant_ttt", severity="error", scope="folder", check="code", since="2026-03-18", source=CONDITIONS)
def pre_quant(x: FolderInput) -> list[Finding]:
    """Pre-quantization TTT: the model is trained on the validation tokens, then quantized and scored.

    >>> from pgolf.review.rules.examples import folder_input, texts
    >>> script = _EPOCHS.replace("    eval_val(model", "    quantize_int6(model)\\n    eval_val(model")
    >>> texts(pre_quant(folder_input("Hyperparameters:", "  ttt_enabled: 1", "final val_loss:2.0 val_bpb:1.2", script=script)))
    ['error: train_gpt.py:15 (main): trains on the validation tokens before quantizing and scoring: ttt_adapt() trains on validation tokens at line 15, before the quantization at line 16']
    """
    return _findings(x, "pre_quant", "trains on the validation tokens before quantizing and scoring")


_NGRAM = '''def eval_ngram(val_tokens, table, n):
    loss_sum = 0.0
    for i in range(n):
        ctx_hash = hash(val_tokens[i - 3:i])
        tgt = val_tokens[i]
        full_key = ctx_hash ^ (tgt * 1000003)
        loss_sum += table[full_key]
    return loss_sum

def main():
    eval_ngram(val_tokens, table, 100)
'''


@rule("eval.ngram_target_in_key", severity="error", scope="folder", check="code", since="2026-03-27", source=NGRAM_RULING)
def target_in_key(x: FolderInput) -> list[Finding]:
    """An n-gram cache looked up with a key that mixes in the target token being scored
    (`hash(ctx) ^ target * prime`): it reweights only the correct token and is no distribution over the
    vocabulary. A cache keyed on the context alone, whose distribution is then read at the target, is legal.

    >>> from pgolf.review.rules.examples import folder_input, texts
    >>> texts(target_in_key(folder_input("final val_loss:2.0 val_bpb:1.2", script=_NGRAM)))
    ['error: train_gpt.py:6 (eval_ngram): an n-gram cache keyed on the target token: `full_key` mixes the target token into the lookup key at line 6']
    """
    return _findings(x, "target_in_key", "an n-gram cache keyed on the target token")


@rule("eval.ppm_mixture", severity="error", scope="folder", check="code", since="2026-04-23", source=PPM_RULING)
def ppm_mixture(x: FolderInput) -> list[Finding]:
    """A PPM model mixed into the scored distribution at evaluation: the byte-level mixture does not normalize
    over the token alphabet, so its bpb is no val_bpb (issue #1872, condition C2).

    >>> from pgolf.review.rules.examples import folder_input, texts
    >>> script = "class PPMModel:\\n    pass\\n\\ndef main():\\n    if args.ppm_enabled:\\n        PPMModel()\\n"
    >>> texts(ppm_mixture(folder_input("Hyperparameters:", "  ppm_enabled: 1", "final val_loss:2.0 val_bpb:1.2", script=script)))
    ['error: train_gpt.py:6 (main): a PPM mixture in the scored distribution: calls PPMModel (defined at line 1) at line 6']
    """
    return _findings(x, "ppm", "a PPM mixture in the scored distribution")


# The techniques the organizers ruled on, as names say them. A name is no evidence: it also matches a
# submission that only mentions a technique or computes n-gram hints legally from tokens already scored.
NAMED: tuple[tuple[str, str], ...] = (
    (r"(?<![a-z])slot(?![a-z])", "SLOT"),
    (r"(?<!causal )(?<!causal_)(?:n-?gram|\dgram)(?! token tilt)|backoff|ppm|gram_?cache|prefill_?cache",
     "an n-gram or PPM cache"),
    (r"pre-?quant_?ttt|prequantttt", "pre-quantization TTT"),
    (r"(?<![a-z])etlb(?![a-z])", "ETLB"),
    (r"val_?only|train_?on_?val|valcalib_?ttt", "training on the validation split"),
    (r"ttt_?\d+_?ep|\d+_?ep(?:och)?s?_?ttt|cosine_?ttt|adamw_?ttt|ttt\W{1,3}\d+\s*-?ep(?:och)?s?\b",
     "multi-epoch TTT"),
    (r"hedge_?mixer", "a mixer of n-gram experts"),
)


def _title(readme: str) -> str:
    return next((ln.lstrip("# ").strip() for ln in readme.splitlines() if ln.startswith("#")), "")


def named(texts: Sequence[str]) -> str | None:
    """The ruled technique a submission's names mention, if any."""
    text = " ".join(t for t in texts if t).lower()
    return next((what for pattern, what in NAMED if re.search(pattern, text)), None)


def _unread(x: RecordInput) -> bool:
    """No script of the folder could be read for its evaluation (none, or its functions do not parse here)."""
    scripts = read_scripts(x.rec.files) if x.rec.files is not None else []
    return not scripts or all(_code(s).unread or not s.lines for s in scripts)


@rule("eval.named_technique", severity="hold", scope="claim", source=CONDITIONS)
def named_technique(x: RecordInput) -> list[Finding]:
    """The folder's name, claim or README title names a technique the organizers ruled on (SLOT, an n-gram or
    PPM cache, pre-quantization or multi-epoch TTT, ETLB): a warning, the code rules decide; held for review
    only when no script could be read to decide.

    >>> from pgolf.review.rules.examples import record, texts
    >>> texts(named_technique(record(submission_json='{"name": "SLOT-24 stack", "val_bpb": 1.2}',
    ...     train_seed1_log="seed:1\\nfinal val_loss:2 val_bpb:1.2", train_gpt_py="def main():\\n    pass\\n")))
    ['warn: the name mentions SLOT: a name is no evidence; the code rules decide']
    >>> texts(named_technique(record(submission_json='{"name": "SLOT-24 stack", "val_bpb": 1.2}',
    ...     train_seed1_log="seed:1\\nfinal val_loss:2 val_bpb:1.2")))
    ['hold: the name mentions SLOT and no script could be read to check it: held for review']
    """
    rec = x.rec
    what = named([rec.name, rec.claim.name if rec.claim else "", rec.stage or "", _title(rec.readme)])
    if what is None:
        return []
    if _unread(x):
        return [Finding(f"the name mentions {what} and no script could be read to check it: held for review")]
    return [Finding(f"the name mentions {what}: a name is no evidence; the code rules decide", severity="warn")]
