"""pgolf.dag: the workflow's paths, commands and config checks as plain Python, on the embedded default
config as Snakemake validates it (the schema's defaults filled in), without Snakemake running."""

from __future__ import annotations

import copy
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from snakemake.utils import validate

from pgolf.dag import commands, reruns, reviewer
from pgolf.dag.checks import check_config
from pgolf.dag.layout import Layout, report_among
from pgolf.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "workflow/schemas/config.schema.yaml"


@pytest.fixture
def config() -> dict:
    """config/config.yaml as the Snakefile sees it: validated, with the schema's defaults."""
    cfg = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    validate(cfg, str(SCHEMA))
    return cfg


def test_imports_without_torch_or_snakemake() -> None:
    code = ("import sys, pgolf.dag.layout, pgolf.dag.commands, pgolf.dag.checks, pgolf.dag.reviewer, "
            "pgolf.dag.reruns; print(sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'snakemake', 'numpy'}))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_default_config_expected_outputs(config) -> None:
    layout = Layout.from_config(config)
    assert layout.eval_names() == ["flat", "doc", "sliding", "ttt"]
    jsons = layout.eval_jsons()
    assert len(jsons) == 12 and jsons[0] == "results/seeds/1/eval/flat.json"
    assert jsons[-1] == "results/seeds/3/eval/ttt.json"
    assert layout.eval_jsons(["7"]) == [f"results/seeds/7/eval/{c}.json" for c in ("flat", "doc", "sliding", "ttt")]
    assert layout.prepare_outputs() == {"manifest": "results/data/manifest.json",
                                        "tokenizer": "results/data/tokenizer.model"}
    assert layout.val_glob == "results/data/pgolf_val_*.bin"
    assert layout.report == "results/report.md" and layout.tables["runs_info"] == "results/tables/provenance.json"
    assert layout.folders().tables == "results/tables" and not layout.folders().partial
    partial = layout.folders(partial=True)
    assert (partial.tables, partial.report, partial.partial) == ("results/partial/tables", "results/report.partial.md",
                                                                 True)


def test_ttt_draws_name_extra_draws(config) -> None:
    config["eval"].update(conditions=["sliding", "ttt"], ttt_draws=3)
    assert Layout.from_config(config).eval_names() == ["sliding", "ttt", "ttt_draw1", "ttt_draw2"]


def test_fineweb_keeps_the_reference_layout_and_its_own_tokenizer(config) -> None:
    config["data"].update(source="fineweb", dir="/d")
    layout = Layout.from_config(config)
    assert layout.manifest == "/d/datasets/fineweb10B_sp1024/manifest.json"
    assert layout.tokenizer == "/d/tokenizers/fineweb_1024_bpe.model"
    assert layout.val_glob == "/d/datasets/fineweb10B_sp1024/fineweb_val_*.bin"
    assert layout.prepare_outputs() == {"manifest": layout.manifest}  # the tokenizer is the user's: never deleted
    assert layout.prepare_folder(layout.manifest) == "/d"
    assert layout.kept_files() == [layout.manifest]


def test_report_among_targets() -> None:
    assert report_among([], "results/report.md") and report_among(["all"], "results/report.md")
    assert report_among([str(Path("results/report.md").resolve())], "results/report.md")
    assert not report_among(["results/seeds/1/eval/ttt.json"], "results/report.md")


def test_train_arguments_and_launcher(config) -> None:
    args = shlex.split(commands.train_arguments(config))
    assert args[:6] == ["--set", "data_path=results/data", "--set", "tokenizer_path=results/data/tokenizer.model",
                        "--set", "vocab_size=512"]
    assert "num_layers=2" in args and "matrix_lr=0.04" in args
    assert commands.train_launcher(config) == "python -m pgolf"
    config["train"]["gpus"] = 8
    assert commands.train_launcher(config) == "torchrun --standalone --nproc_per_node=8 -m pgolf"
    assert commands.train_gpus(config) == 8 and commands.eval_gpus(config) == 0


def test_eval_arguments_give_ttt_flags_only_to_ttt(config) -> None:
    flat = shlex.split(commands.eval_arguments(config, "flat"))
    assert flat[:6] == ["--condition", "flat", "--val", "results/data/pgolf_val_*.bin", "--tokenizer",
                        "results/data/tokenizer.model"]
    assert "--seq-len" in flat and not any(a.startswith("--ttt") for a in flat)
    config["eval"]["ttt_seed"] = 5
    draw2 = shlex.split(commands.eval_arguments(config, "ttt_draw2"))
    assert draw2[draw2.index("--condition") + 1] == "ttt"
    assert draw2[draw2.index("--ttt-seed") + 1] == "7"  # ttt_seed + draw
    assert draw2[draw2.index("--ttt-rank") + 1] == "8"


def test_report_commands_quote_braces_and_mark_the_partial_report(config) -> None:
    layout = Layout.from_config(config)
    aggregate = shlex.split(commands.aggregate_command(config, layout.folders()))
    assert aggregate[:3] == ["python", "-m", "pgolf"] and aggregate[3] == "aggregate"
    assert aggregate[aggregate.index("--eval-pattern") + 1] == "results/seeds/{seed}/eval/{name}.json"
    assert aggregate[aggregate.index("--seeds") + 1:aggregate.index("--conditions")] == ["1", "2", "3"]
    report = shlex.split(commands.report_command(config, layout.folders()))
    assert yaml.safe_load(report[report.index("--config-json") + 1]) == config and "--partial" not in report
    partial = shlex.split(commands.report_command(config, layout.folders(partial=True)))
    assert partial[-1] == "--partial" and partial[partial.index("--out") + 1] == "results/report.partial.md"
    plots = shlex.split(commands.plots_command(config, layout.folders()))
    assert plots[plots.index("--first") + 1] == "128"  # four windows of seq_len 32
    assert commands.shell_args(["a b", "{x}", 3]) == "'a b' '{x}' 3"


def test_check_config_accepts_the_default(config) -> None:
    check_config(config)


@pytest.mark.parametrize(("change", "message"), [
    (lambda c: c["claim"].update(headline="lora"), r"config key claim\.headline: 'lora' is not among .*flat, doc"),
    (lambda c: c["eval"].update(conditions=["flat", "sliding"], ttt_draws=2, ),
     r"config key claim\.headline: 'ttt'"),
    (lambda c: (c["eval"].update(conditions=["flat", "sliding"], ttt_draws=2), c["claim"].update(headline="flat")),
     r"config key eval\.ttt_draws: is 2 but eval\.conditions has no 'ttt'"),
    (lambda c: c.update(seeds=[1]), r"config key seeds: .*1 seed"),
    (lambda c: c["train"]["hyperparameters"].update(num_layers="two"), r"train\.hyperparameters: num_layers='two'"),
    (lambda c: c["eval"].update(ttt_lr=float("nan")), r"ttt_lr"),
])
def test_check_config_names_the_key(config, change, message) -> None:
    bad = copy.deepcopy(config)
    change(bad)
    with pytest.raises(ConfigError, match=message):
        check_config(bad)


def test_claim_entries(tmp_path) -> None:
    config = {"claims": {"a": {"logs": ["x.txt", "y.txt"], "previous": ["p.txt"], "threshold": 1.2, "alpha": None}}}
    with pytest.raises(ConfigError, match=r"config key claims\.b: no such claim; configured: a"):
        reviewer.claim_config(config, "b")
    entry = reviewer.claim_config(config, "a")
    assert reviewer.claim_command(entry) == "check-logs x.txt y.txt --previous p.txt --threshold 1.2"
    assert reviewer.claim_inputs(entry) == {"logs": ["x.txt", "y.txt"], "previous": ["p.txt"]}
    with pytest.raises(ConfigError, match=r"claims\.r\.previous: with `record`, give the previous record's folder"):
        reviewer.claim_config({"claims": {"r": {"record": "f", "previous": ["l.txt"]}}}, "r")
    (tmp_path / "rec" / "sub").mkdir(parents=True)
    (tmp_path / "rec" / "sub" / "train.log").write_text("x")
    (tmp_path / "rec" / "README.md").write_text("x")
    record = {"record": str(tmp_path / "rec"), "margin_nats": 0.005}
    assert reviewer.claim_inputs(record) == {"logs": [str(tmp_path / "rec/README.md"),
                                                      str(tmp_path / "rec/sub/train.log")], "previous": []}
    assert reviewer.claim_command(record) == f"check-record {tmp_path / 'rec'} --margin-nats 0.005"
    with pytest.raises(ConfigError, match=r"nope: no such record folder"):
        reviewer.folder_files(str(tmp_path / "nope"))


def test_audit_entry(tmp_path) -> None:
    with pytest.raises(ConfigError, match=r"config key audit: not set"):
        reviewer.audit_config({"audit": None})
    entry = reviewer.audit_config({"audit": {"records": str(tmp_path), "alpha": 0.05}})
    assert reviewer.audit_command(entry) == f"{tmp_path} --alpha 0.05"
    assert reviewer.audit_inputs(entry) == {"records": []}


def _record_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "rec"
    folder.mkdir()
    (folder / "train_gpt.py").write_text("")
    (folder / "submission.json").write_text("{}")
    return folder


def test_rerun_entry_takes_the_schema_defaults(tmp_path) -> None:
    defaults = reruns.rerun_defaults(SCHEMA)
    assert defaults["script"] == "train_gpt.py" and defaults["nproc"] == 8
    folder = _record_folder(tmp_path)
    entry = reruns.resolve_rerun("r", {"folder": str(folder), "seeds": [1, 2], "timeout_minutes": 30,
                                       "env": {"FLAG": True, "N": 3}}, defaults)
    assert (entry["gpus"], entry["runtime"]) == (8, 40)  # gpus default nproc; runtime: the timeout + 10
    args = reruns.seed_arguments(entry, "r", "2")
    assert args[args.index("--run-id") + 1] == "r_seed2" and "FLAG=1" in args and "N=3" in args
    assert args[-2:] == ["--timeout-minutes", "30"]
    assert reruns.seed_outputs(entry, "r", "out/rerun") == {
        "logs": ["out/rerun/r/1/train.log", "out/rerun/r/2/train.log"],
        "infos": ["out/rerun/r/1/rerun.json", "out/rerun/r/2/rerun.json"]}
    argv = reruns.check_argv(entry, "r", "out/rerun", out="out/rerun/r/partial")
    assert argv[argv.index("--seeds") + 1:argv.index("--alpha")] == ["1", "2"]
    assert argv[argv.index("--out") + 1] == "out/rerun/r/partial"
    with pytest.raises(ConfigError, match=r"config key reruns\.x: no such rerun; configured: r"):
        reruns.rerun_entry({"r": entry}, "x")


def test_rerun_entry_errors_name_the_key(tmp_path) -> None:
    defaults = reruns.rerun_defaults(SCHEMA)
    with pytest.raises(ConfigError, match=r"config key reruns\.r\.folder: .* does not exist"):
        reruns.resolve_rerun("r", {"folder": str(tmp_path / "missing")}, defaults)
    folder = _record_folder(tmp_path)
    with pytest.raises(ConfigError, match=r"config key reruns\.r\.script: .*other\.py is missing"):
        reruns.resolve_rerun("r", {"folder": str(folder), "script": "other.py"}, defaults)
    with pytest.raises(ConfigError, match=r"config key reruns\.r\.previous: "):
        reruns.resolve_rerun("r", {"folder": str(folder), "previous": str(tmp_path / "gone")}, defaults)
    with pytest.raises(ConfigError, match=r"config key reruns\.r\.seeds: "):
        reruns.resolve_rerun("r", {"folder": str(folder)}, defaults)  # submission.json names no seeds
