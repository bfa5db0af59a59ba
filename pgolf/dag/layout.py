"""Every path the DAG reads or writes, derived from the config: `results` holds all outputs of one
configuration (results/ for the default, results/record/ for the record setting), so one never replaces
another's outputs, and `data` says where the shards and tokenizer are."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pgolf import evalspec

# The hyperparameters every train job takes from `data`, and the config key each comes from.
DATA_SETTING_KEYS = {"data_path": "data.dir", "tokenizer_path": "data.dir", "vocab_size": "data.vocab_size"}


@dataclass(frozen=True)
class Folders:
    """Where aggregate, stats, plots and report write: the DAG's outputs, or (the --keep-going partial
    report, `partial=True`) folders of their own, so a partial report never replaces a complete one."""

    tables: str
    stats: str
    plots: str
    report: str
    partial: bool = False


@dataclass(frozen=True)
class Layout:
    results: str
    data_dir: str
    fineweb: bool
    seeds: tuple[str, ...]
    conditions: tuple[str, ...]
    ttt_draws: int

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Layout:
        return cls(
            results=str(config["results"]),
            data_dir=str(config["data"]["dir"]),
            fineweb=config["data"]["source"] == "fineweb",
            seeds=tuple(str(seed) for seed in config["seeds"]),
            conditions=tuple(config["eval"]["conditions"]),
            ttt_draws=int(config["eval"]["ttt_draws"]),
        )

    # ------------------------------------------------------------------ data

    @property
    def dataset_dir(self) -> str:
        """Shards + manifest. FineWeb keeps the reference's layout under the data root."""
        return f"{self.data_dir}/datasets/fineweb10B_sp1024" if self.fineweb else self.data_dir

    @property
    def manifest(self) -> str:
        return f"{self.dataset_dir}/manifest.json"

    @property
    def tokenizer(self) -> str:
        if self.fineweb:
            return f"{self.data_dir}/tokenizers/fineweb_1024_bpe.model"
        return f"{self.data_dir}/tokenizer.model"

    @property
    def val_glob(self) -> str:
        prefix = "fineweb" if self.fineweb else "pgolf"
        return f"{self.dataset_dir}/{prefix}_val_*.bin"

    def prepare_outputs(self) -> dict[str, str]:
        """prepare writes the tokenizer for a built corpus; FineWeb's own is only checked, never
        declared an output (Snakemake would delete it before the job runs)."""
        outputs = {"manifest": self.manifest}
        if not self.fineweb:
            outputs["tokenizer"] = self.tokenizer
        return outputs

    def prepare_folder(self, manifest: str) -> str:
        """prepare's --out: the manifest's folder, or for FineWeb the data root two levels above it."""
        folder = Path(manifest).parent
        return str(folder.parents[1] if self.fineweb else folder)

    # ------------------------------------------------------------------ train and eval
    # One eval output per seed x name (pgolf.evalspec.eval_name): a condition keeps its own name
    # (`ttt.json` is the ttt condition with LoRA init draw 0); extra draws of the ttt condition on the
    # same checkpoint are `ttt_draw1.json`, `ttt_draw2.json`, ...

    @property
    def eval_pattern(self) -> str:
        return f"{self.results}/seeds/{{seed}}/eval/{{name}}.json"

    @property
    def artifact_pattern(self) -> str:
        return f"{self.results}/seeds/{{seed}}/train/final_model.int8.ptz"

    @property
    def train_metrics_pattern(self) -> str:
        return f"{self.results}/seeds/{{seed}}/train/metrics.json"

    def eval_names(self) -> list[str]:
        """File stems of one seed's evaluations, in ablation order."""
        return [evalspec.eval_name(c, draw) for c, draw in evalspec.evaluations(list(self.conditions), self.ttt_draws)]

    def eval_jsons(self, seeds: list[str] | None = None) -> list[str]:
        return [self.eval_pattern.format(seed=s, name=n) for s in (seeds or self.seeds) for n in self.eval_names()]

    # ------------------------------------------------------------------ tables, stats, plots, report

    @property
    def tables(self) -> dict[str, str]:
        names = {"runs": "runs.csv", "conditions": "conditions.csv", "conditions_md": "conditions.md",
                 "steps": "steps.csv", "steps_md": "steps.md", "positions": "positions.csv",
                 "missing": "missing.csv", "runs_info": "provenance.json"}
        return {key: f"{self.results}/tables/{name}" for key, name in names.items()}

    @property
    def stats(self) -> dict[str, str]:
        names = {"claim": "claim.json", "paired": "paired.csv", "noise": "noise.csv"}
        return {key: f"{self.results}/stats/{name}" for key, name in names.items()}

    @property
    def plots(self) -> dict[str, str]:
        return {"ablation": f"{self.results}/plots/ablation.png", "positions": f"{self.results}/plots/positions.png"}

    @property
    def report(self) -> str:
        return f"{self.results}/report.md"

    @property
    def partial_report(self) -> str:
        return f"{self.results}/report.partial.md"

    def folders(self, partial: bool = False) -> Folders:
        if partial:
            return Folders(f"{self.results}/partial/tables", f"{self.results}/partial/stats",
                           f"{self.results}/partial/plots", self.partial_report, partial=True)
        return Folders(f"{self.results}/tables", f"{self.results}/stats", f"{self.results}/plots", self.report)

    def kept_files(self) -> list[str]:
        """Outputs a failed run must not lose besides everything under `results`: prepare's, where the data
        live elsewhere (FineWeb's folder holds the user's shards: only the manifest is ours)."""
        return list(self.prepare_outputs().values())


def data_settings(config: dict[str, Any]) -> dict[str, Any]:
    """The hyperparameters every train job takes from `data` (keys: DATA_SETTING_KEYS)."""
    layout = Layout.from_config(config)
    return {"data_path": layout.dataset_dir, "tokenizer_path": layout.tokenizer,
            "vocab_size": config["data"]["vocab_size"]}


def report_among(targets: list[str], report: str) -> bool:
    """True when the report is among a run's targets (no target = rule all = the report)."""
    wanted = {str(t) for t in targets}
    return not wanted or bool(wanted & {"all", report, str(Path(report).resolve())})
