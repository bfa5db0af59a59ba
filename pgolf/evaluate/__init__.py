"""The four evaluation conditions of the ablation: flat, doc, sliding, ttt.

`run_condition(model, tokens, tables, condition, settings) -> EvalResult` is the
entry point for other modules (training validates with "flat").
"""

from pgolf.evaluate.conditions import CONDITIONS, EvalSettings, run_condition
from pgolf.evaluate.totals import EvalResult, result_files

__all__ = ["CONDITIONS", "EvalResult", "EvalSettings", "result_files", "run_condition"]
