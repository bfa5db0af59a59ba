"""How a submission's script evaluates, read with `ast` (never run): does it train on validation tokens before it
scores them?

The facts, each with the line that shows it (`EvalFact`):
- `update_then_score`: in a loop over validation tokens, an optimizer step (or `.backward()`) comes before the
  tokens of that iteration are scored (score-first TTT scores a chunk, then trains on it: legal);
- `slot`: the same, where the optimized tensor is created in the loop (`requires_grad=True`): a per-batch
  delta or logit bias fitted on the tokens then scored;
- `train_on_val`: a pass that only trains on validation tokens (epochs over the whole split) before the
  scored stage; `pre_quant` when a quantization call comes between that pass and the score;
- `target_in_key`: an n-gram cache whose lookup key mixes in the target token being scored;
- `ppm`: a PPM model (a class or function named so) in the script.

A loop is "over validation tokens" when it indexes a name containing `val` (`val_tokens[ws:end]`) or a
parameter of its function whose call site passes one. Scoring is an accumulation (`loss_sum += ...`) not in
the loop body that holds the update, or a call of a function that scores. Which settings reach a fact:
`guards`, the setting names the enclosing `if` tests read (`args.ttt_enabled`, `SLOT_STEPS`), and the
script's defaults for them (`EvalCode.defaults`); `reach.py` decides from a log's printed settings.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from pgolf.review.read.codeblocks import defaults, needed, text_caller, used_elsewhere
from pgolf.review.read.guards import aliased as _aliased
from pgolf.review.read.guards import guards_of as _guards_of
from pgolf.review.read.guards import guards_of_text
from pgolf.review.read.guards import name as _name
from pgolf.review.read.guards import setting as _setting
from pgolf.review.read.guards import setting_of as _setting_of

_VAL = re.compile(r"(?:^|_)val(?:_|$|idation)|^valid", re.IGNORECASE)
_SCORE_ACC = re.compile(r"loss|nll|bits|bpb", re.IGNORECASE)
_TARGET = re.compile(r"^(?:tgt|tgts|target|targets|y|ys|nxt|next_tok|next_token|next_ids)(?:_\w+)?$")
_KEY = re.compile(r"key|hash|idx|index|bucket|^full", re.IGNORECASE)
_QUANT = re.compile(r"quant|gptq", re.IGNORECASE)
_PPM = re.compile(r"ppm", re.IGNORECASE)


@dataclass(frozen=True)
class EvalFact:
    kind: str  # update_then_score, slot, train_on_val, pre_quant, target_in_key, ppm
    line: int
    function: str
    guards: tuple[str, ...]  # setting names (lower case) whose values decide whether the line runs
    detail: str


@dataclass(frozen=True)
class EvalCode:
    facts: tuple[EvalFact, ...] = ()
    unread: bool = False  # a function that could hold a fact did not parse (newer Python syntax, a cut file)
    defaults: dict[str, str] = field(default_factory=dict)  # setting name (lower case) -> the script's default


@dataclass
class _Event:
    kind: str  # update, score, valref, newparam, quant, call
    line: int
    loops: tuple[int, ...]  # ids of the enclosing loops, outermost first
    guards: tuple[str, ...]
    name: str = ""  # the called function, for `call`
    args: tuple[str, ...] = ()  # a call's arguments that are names (a function passed to a timer: `timed(eval_val)`)
    settings: tuple[tuple[str, str], ...] = ()  # a call's arguments as settings: (position or keyword, name)


class _Walker:
    """The events of one function body in source order, with their loops and guards."""

    def __init__(self, params: set[str], offset: int = 0, deep: bool = True) -> None:
        self.params, self.offset, self.deep = params, offset, deep
        self.events: list[_Event] = []
        self._loops: list[int] = []
        self._guards: list[str] = []
        self.alias: dict[str, str] = {}  # local name -> the setting it copies

    def add(self, kind: str, node: ast.AST, name: str = "", args: tuple[str, ...] = (),
            settings: tuple[tuple[str, str], ...] = ()) -> None:
        self.events.append(_Event(kind, getattr(node, "lineno", 0) + self.offset, tuple(self._loops),
                                  tuple(self._guards), name, args, settings))

    def body(self, stmts: list[ast.stmt]) -> None:
        for s in stmts:
            self.stmt(s)

    def stmt(self, s: ast.stmt) -> None:
        if isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            return  # its own function
        if isinstance(s, ast.For | ast.AsyncFor | ast.While):
            self.exprs(s.iter if isinstance(s, ast.For | ast.AsyncFor) else s.test)
            self._loops.append(id(s))
            self.body(s.body)
            self._loops.pop()
            self.body(s.orelse)
            return
        if isinstance(s, ast.If):
            self.exprs(s.test)
            for block, negate in ((s.body, False), (s.orelse, True)):
                g = _guards_of(s.test, negate) if not negate or not isinstance(s.test, ast.BoolOp) else ()
                g = tuple(_aliased(x, self.alias) for x in g)
                self._guards.extend(g)
                self.body(block)
                del self._guards[len(self._guards) - len(g):]
            return
        if isinstance(s, ast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], ast.Name) \
                and (setting := _setting_of(s.value)):  # `use_slot = getattr(args, "slot_enabled", False)`
            self.alias[s.targets[0].id.lower()] = setting
        if isinstance(s, ast.AugAssign) and _SCORE_ACC.search(_name(s.target)):
            self.add("score", s)
        for _, value in ast.iter_fields(s):
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, ast.stmt):
                    self.stmt(item)
                elif isinstance(item, ast.ExceptHandler):
                    self.body(item.body)
                elif isinstance(item, ast.withitem):
                    self.exprs(item.context_expr)
                elif isinstance(item, ast.expr):
                    self.exprs(item)

    def exprs(self, node: ast.AST) -> None:
        if not self.deep:  # a caller: only the calls it makes as statements (`x = f(...)`, `f(...)`)
            if isinstance(node, ast.Await):
                node = node.value
            while isinstance(node, ast.Call):  # `PPM(order).score(x)`: both calls of the chain
                self.call(node)
                node = node.func.value if isinstance(node.func, ast.Attribute) else None
            return
        for n in ast.walk(node):
            if isinstance(n, ast.Call):
                self.call(n)
            elif isinstance(n, ast.Subscript) and (_VAL.search(_name(n.value)) or _name(n.value) in self.params):
                self.add("valref", n, _name(n.value))

    def call(self, n: ast.Call) -> None:
        attr = n.func.attr if isinstance(n.func, ast.Attribute) else ""
        if attr == "backward" or (attr == "step" and "opt" in _name(n.func.value).lower()):
            self.add("update", n)
        elif attr == "requires_grad_" or any(k.arg == "requires_grad" and isinstance(k.value, ast.Constant)
                                             and k.value.value is True for k in n.keywords):
            self.add("newparam", n)
        callee = _name(n.func)
        if callee:
            if _QUANT.search(callee):
                self.add("quant", n, callee)
            args = [*n.args, *(k.value for k in n.keywords)]
            vals = [a for a in args if _VAL.search(_name(a))]
            given = [(str(i), _setting(a)) for i, a in enumerate(n.args)] + \
                [(k.arg, _setting(k.value)) for k in n.keywords if k.arg]
            self.add("call", n, callee + ("(val)" if vals else ""),
                     tuple(a.id for a in args if isinstance(a, ast.Name)), tuple((k, v) for k, v in given if v))


# --------------------------------------------------------------------------- per function, then the script


@dataclass
class _Fn:
    name: str
    events: list[_Event]
    params: tuple[str, ...] = ()
    trains: str = ""  # "val": a pass training on validation tokens, "param": on its parameters' data
    scores: str = ""  # the same for scoring
    quantizes: bool = False  # calls a quantizer, itself or through the functions it calls
    scored_text: bool = False  # its text scores validation tokens (`codeblocks.scores`): not walked in full
    facts: list[EvalFact] = field(default_factory=list)


def _is_val(e: _Event) -> bool:
    return bool(_VAL.search(e.name))


def _resolved(fn: _Fn, fns: dict[str, _Fn]) -> list[_Event]:
    """The function's events with each call of a function that trains, scores or quantizes read as an update, a
    score or a quantization (a scoring function passed to a timer, `timed_eval("x", eval_val, ...)`, scores)."""
    out = []
    for e in fn.events:
        if e.kind != "call":
            out.append(e)
            continue
        callee = fns.get(e.name.removesuffix("(val)"))
        passed = [fns[a] for a in e.args if a in fns and fns[a] is not fn]
        val_arg = e.name.endswith("(val)")
        if callee is not None and callee is not fn:
            if callee.trains == "val" or (callee.trains == "param" and val_arg):
                out += [_Event("update", e.line, e.loops, e.guards), _Event("valref", e.line, e.loops, e.guards, "val")]
            if callee.quantizes:
                out.append(_Event("quant", e.line, e.loops, e.guards, callee.name))
        if any(c.scores == "val" or (c.scores == "param" and val_arg) for c in [callee, *passed] if c is not None
               and c is not fn):
            out.append(_Event("score", e.line, e.loops, e.guards))
        out.append(e)
    return out


def _analyse(fn: _Fn, fns: dict[str, _Fn]) -> None:
    """Classify the function's loops over data: update-then-score, SLOT, or a pass that only trains (then judged
    against what follows it: a score, with a quantization call between or not)."""
    events = _resolved(fn, fns)
    fn.facts, fn.trains, passes = [], "", []
    fn.quantizes = any(e.kind == "quant" for e in events)
    fn.scores = "val" if fn.scored_text else fn.scores
    scores_everywhere = [e for e in events if e.kind == "score"]
    for loop in dict.fromkeys(e.loops[0] for e in events if e.loops):
        group = [e for e in events if e.loops and e.loops[0] == loop]
        refs = [e for e in group if e.kind == "valref"]
        updates = [e for e in group if e.kind == "update"]
        scores = [e for e in group if e.kind == "score" and not any(u.loops == e.loops for u in updates)]
        if not refs:
            continue
        data = "val" if any(_is_val(r) for r in refs) else "param"
        if scores and not fn.scores:
            fn.scores = data
        if not updates:
            continue
        first = updates[0]
        if scores and first.line < scores[0].line:
            slot = any(e.kind == "newparam" and e.line < first.line for e in group)
            fn.facts.append(EvalFact("slot" if slot else "update_then_score", first.line, fn.name, first.guards,
                                     f"line {first.line} updates before line {scores[0].line} scores"))
        elif not scores:
            passes.append((first, data, max(e.line for e in group)))
    trained = [e for e in events if e.kind == "update" and not e.loops and e.name == "" and
               any(v.kind == "valref" and v.line == e.line for v in events)]
    passes += [(e, "val", e.line) for e in trained]  # a call of a function that trains, outside any loop
    for first, data, end in passes:
        later = [e for e in scores_everywhere if e.line > end]
        if not later:
            fn.trains = fn.trains or data
            continue
        if first in trained:
            continue  # the caller's own fact (`_callers_passes`)
        quant = [e for e in events if e.kind == "quant" and end < e.line < later[0].line]
        fn.facts.append(EvalFact("pre_quant" if quant else "train_on_val", first.line, fn.name, first.guards,
                                 f"trains on {'validation tokens' if data == 'val' else 'its data'} at line "
                                 f"{first.line}, then " + (f"quantizes at line {quant[0].line} and " if quant else "")
                                 + f"scores at line {later[0].line}"))


def _callers_passes(fns: dict[str, _Fn]) -> list[EvalFact]:
    """A function that only trains, called with validation data before a call that scores or quantizes."""
    out = []
    for fn in fns.values():
        events = _resolved(fn, fns)
        for e in events:
            callee = fns.get(e.name.removesuffix("(val)")) if e.kind == "call" else None
            if callee is None or e.loops or not (callee.trains == "val" or (callee.trains == "param"
                                                                           and e.name.endswith("(val)"))):
                continue
            later = [x for x in events if x.kind == "score" and x.line > e.line]
            quant = [x for x in events if x.kind == "quant" and e.line < x.line]
            if quant and (not later or quant[0].line < later[0].line):
                out.append(EvalFact("pre_quant", e.line, fn.name, e.guards, f"{callee.name}() trains on validation "
                                    f"tokens at line {e.line}, before the quantization at line {quant[0].line}"))
            elif later:
                out.append(EvalFact("train_on_val", e.line, fn.name, e.guards, f"{callee.name}() trains on "
                                    f"validation tokens at line {e.line}, before the score at line {later[0].line}"))
    return out


def _keyed_on_target(trees: list[tuple[ast.Module, int]]) -> list[EvalFact]:
    """`full_key = hash(ctx) ^ (tgt * prime)` looked up as `table[full_key]`: the target token is in the key."""
    out = []
    for fn, offset in ((n, o) for tree, o in trees for n in tree.body if isinstance(n, ast.FunctionDef)):
        looked_up = {_name(n.slice) for n in ast.walk(fn) if isinstance(n, ast.Subscript)} | \
            {_name(x) for n in ast.walk(fn) if isinstance(n, ast.Return) and n.value is not None
             for x in ast.walk(n.value) if isinstance(x, ast.Name)}  # a key returned to the caller's lookup
        for a in (n for n in ast.walk(fn) if isinstance(n, ast.Assign) and len(n.targets) == 1):
            key = _name(a.targets[0])
            if not _KEY.search(key) or key not in looked_up:
                continue
            full = key.lower().startswith("full")  # the table of (context, next token) counts
            mixes = [b for b in ast.walk(a.value) if isinstance(b, ast.BinOp)
                     and isinstance(b.op, ast.BitXor | ast.Add | ast.BitOr)
                     and (full and isinstance(b.op, ast.BitXor)
                          or any(_TARGET.match(_name(x)) for side in (b.left, b.right) for x in ast.walk(side)
                                 if isinstance(x, ast.Name)))]
            if mixes:
                line = a.lineno + offset
                out.append(EvalFact("target_in_key", line, fn.name, (), f"`{key}` mixes the target token into "
                                    f"the lookup key at line {line}"))
    return out


def _ppm(trees: list[tuple[ast.Module, int]], fns: dict[str, _Fn]) -> list[EvalFact]:
    """A PPM model defined and used by the script (the byte-level mixture the organizers ruled out)."""
    defs = {n.name: n.lineno + o for tree, o in trees for n in tree.body if isinstance(n, ast.ClassDef | ast.FunctionDef)
            and _PPM.search(n.name)}
    calls = sorted(((fn, e) for fn in fns.values() for e in fn.events if e.kind == "call"
                    and e.name.removesuffix("(val)") in defs), key=lambda fe: bool(_PPM.search(fe[0].name)))
    return [EvalFact("ppm", e.line, fn.name, e.guards, f"calls {e.name.removesuffix('(val)')} (defined at line "
                     f"{defs[e.name.removesuffix('(val)')]}) at line {e.line}") for fn, e in calls[:1]]


def _functions(trees: list[tuple[ast.Module, int, bool]]) -> dict[str, _Fn]:
    fns: dict[str, _Fn] = {}
    defs = [(n, o, d) for tree, o, d in trees for n in _defs(tree.body)]
    for node, offset, deep in defs:
        if node.name in fns:
            continue
        w = _Walker({a.arg for a in node.args.args if a.arg not in ("self", "args", "h")}, offset, deep)
        w.body(node.body)
        fns.setdefault(node.name, _Fn(node.name, w.events, tuple(a.arg for a in node.args.args)))
    return fns


def _defs(stmts: list[ast.stmt]) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    """Every function among these statements, methods and functions nested in functions included (found through
    statement bodies only: expressions hold none)."""
    for s in stmts:
        if isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef):
            yield s
        for block in ("body", "orelse", "finalbody"):
            yield from _defs(getattr(s, block, []))
        for handler in getattr(s, "handlers", []):
            yield from _defs(handler.body)


def _parsed(source: str) -> list[tuple[ast.Module, int, bool, bool, bool] | None]:
    """The functions `codeblocks.needed` picks, each parsed at its own line numbers (one that does not parse
    alone, or in this Python, is left out)."""
    out = []
    for b in needed(source):
        try:
            tree = ast.parse(b.text)
        except (SyntaxError, ValueError, RecursionError):
            out.append(None)
            continue
        out.append((tree, b.line - 1, b.deep, b.keyed, b.scores))
    return out


@functools.lru_cache(maxsize=4096)
def read_evalcode(source: str) -> EvalCode:
    """The evaluation facts of one script's source (once per content: the stream holds the same script in many
    folders). Only the functions that could hold a fact are parsed (`codeblocks`)."""
    parsed = _parsed(source)
    trees = [t for t in parsed if t is not None]
    if not trees:
        return EvalCode(unread=bool(parsed))
    fns = _functions([(t[0], t[1], t[2]) for t in trees])
    for tree, _, deep, _, scoring in trees:  # a scoring function read only for its calls still scores
        for node in tree.body if scoring and not deep else []:
            if getattr(node, "name", None) in fns:
                fns[node.name].scored_text = True
    for _ in range(3):  # a callee's summary reaches its callers, then theirs
        for fn in fns.values():
            _analyse(fn, fns)
    deep = [(t[0], t[1]) for t in trees if t[2]]
    keyed = [(t[0], t[1]) for t in trees if t[3]]
    facts = [f for fn in fns.values() for f in fn.facts] + _callers_passes(fns) + _keyed_on_target(keyed) \
        + _ppm(deep, fns)
    reached = [r for f in facts if (r := _with_callers(f, fns, source)) is not None]
    return EvalCode(tuple(sorted(set(reached), key=lambda f: f.line)), len(trees) < len(parsed), defaults(source))


def _with_callers(fact: EvalFact, fns: dict[str, _Fn], source: str) -> EvalFact | None:
    """The fact with the guards around the calls of its function, up to the entry point; None when nothing
    calls the function (dead code: no run reaches it)."""
    guards, name, seen = list(fact.guards), fact.function, set()
    while name not in ("<module>", "main") and name not in seen:
        seen.add(name)
        calls = [(fn, e) for fn in fns.values() for e in fn.events if e.kind == "call" and fn.name != name
                 and (e.name.removesuffix("(val)") == name or name in e.args)]
        if not calls:  # a caller that did not parse: its `if` tests read from the text
            found = text_caller(source, name) if used_elsewhere(source, name) else None
            if found is None:
                return None
            name = found[0]
            guards += [g for test in found[1] for g in guards_of_text(test)]
            continue
        caller, call = min(calls, key=lambda fc: len(fc[1].guards))  # the main path: the least guarded call
        params = fns[name].params if name in fns else ()
        guards = [_through(g, params, call) for g in guards] + list(call.guards)
        name = caller.name
    return replace(fact, guards=tuple(dict.fromkeys(guards)))


def _through(guard: str, params: tuple[str, ...], call: _Event) -> str:
    """A guard on a parameter, named by the setting the call passes for it: `steps>0` in
    `eval_slot(model, val_tokens, args.slot_steps)` -> `slot_steps>0`."""
    m = re.match(r"^(!?)(\w+)(.*)$", guard)
    if m is None or m.group(2) not in [p.lower() for p in params]:
        return guard
    index = [p.lower() for p in params].index(m.group(2))
    given = dict(call.settings)
    setting = given.get(params[index]) or given.get(str(index - (1 if params[:1] == ("self",) else 0)))
    return f"{m.group(1)}{setting}{m.group(3)}" if setting else guard
