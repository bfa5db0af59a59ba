"""The four evaluation conditions of the ablation: flat, doc, sliding, ttt.

`run_condition(model, tokens, tables, condition, settings) -> EvalResult` is the
entry point for other modules (training validates with "flat"); the conditions and the
settings themselves are torch-free values in pgolf.evalspec.
"""

from pgolf.evalspec import NAMES as CONDITIONS
from pgolf.evalspec import EvalSettings, TTTSettings
from pgolf.evaluate.conditions import run_condition
from pgolf.evaluate.totals import EvalResult, result_files

__all__ = ["CONDITIONS", "EvalResult", "EvalSettings", "TTTSettings", "result_files", "run_condition"]
