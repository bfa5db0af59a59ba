"""What an `if` test says about the settings that reach its branch, read from the test's `ast`:
`if args.ttt_enabled:` -> `ttt_enabled`, `if not h.use_lbfgs:` -> `!use_lbfgs`, `if args.ngram_order >= 2:`
-> `ngram_order>=2`, `if os.environ.get("EVAL_MODE") == "slot":` -> `eval_mode=slot` (`reach.live` judges them).
"""

from __future__ import annotations

import ast
import re

_ENV = re.compile(r"^[A-Z][A-Z0-9_]+$")


def name(node: ast.AST) -> str:
    """`val_tokens` of `val_tokens`, `self.val_tokens`, `args.val_tokens[0]`; '' otherwise."""
    while isinstance(node, ast.Subscript | ast.Call):
        node = node.value if isinstance(node, ast.Subscript) else node.func
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""


def guards_of(test: ast.AST, negate: bool = False) -> tuple[str, ...]:
    """The guards an `if` test sets: `name` (the branch runs when the setting is on), `!name` (when it is off),
    `name=value` (when it equals the value); tests of other shapes set none."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return guards_of(test.operand, not negate)
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And) and not negate:
        return tuple(g for v in test.values for g in guards_of(v))
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.comparators[0], ast.Constant):
        c, op = test.comparators[0].value, test.ops[0]
        if isinstance(c, str) and isinstance(op, ast.Eq | ast.NotEq):
            eq = isinstance(op, ast.Eq) != negate
            return (f"{setting(test.left)}={c.lower()}",) if eq and setting(test.left) else ()
        ops = {ast.Gt: ">", ast.GtE: ">=", ast.Lt: "<", ast.LtE: "<=", ast.NotEq: "!=", ast.Eq: "=="}
        if isinstance(c, int | float) and not isinstance(c, bool) and type(op) in ops and setting(test.left):
            return ((("!" if negate else "") + f"{setting(test.left)}{ops[type(op)]}{c}"),)
        return ()
    name = setting(test)
    return ((("!" if negate else "") + name),) if name else ()


def setting(node: ast.AST) -> str:
    """The setting a test reads: `args.ttt_enabled` -> ttt_enabled, `os.environ.get("SLOT", "0")` -> slot,
    `int(x)`/`bool(x)` -> x's."""
    if isinstance(node, ast.Call):
        env = [a.value for a in node.args[:1] if isinstance(a, ast.Constant) and isinstance(a.value, str)]
        if env and _ENV.match(env[0]):
            return env[0].lower()
        return setting(node.args[0]) if node.args and name(node.func) in ("int", "bool", "float") else ""
    if isinstance(node, ast.Attribute):
        return node.attr.lower()
    return node.id.lower() if isinstance(node, ast.Name) else ""


def guards_of_text(test: str) -> tuple[str, ...]:
    """The guards of an `if` test given as text (the caller around it did not parse); none if it does not."""
    try:
        return guards_of(ast.parse(test.strip(), mode="eval").body)
    except (SyntaxError, ValueError, RecursionError):
        return ()


def setting_of(value: ast.AST) -> str:
    """The setting a local copies: `args.slot_enabled`, `getattr(args, "slot_enabled", False)`."""
    if isinstance(value, ast.Attribute) and isinstance(value.value, ast.Name):
        return value.attr.lower()
    if isinstance(value, ast.Call) and name(value.func) == "getattr" and len(value.args) >= 2 \
            and isinstance(value.args[1], ast.Constant) and isinstance(value.args[1].value, str):
        return value.args[1].value.lower()
    return ""


def aliased(guard: str, alias: dict[str, str]) -> str:
    """A guard on a local copy (`use_slot`) named by the setting it copies (`slot_enabled`)."""
    m = re.match(r"^(!?)(\w+)(.*)$", guard)
    return f"{m.group(1)}{alias[m.group(2)]}{m.group(3)}" if m and m.group(2) in alias else guard
