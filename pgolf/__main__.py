"""`python -m pgolf <verb>`: parse arguments, call one function.

Each verb lives in its own module under `pgolf.cli`, which exposes
`add_arguments(parser)` and `main(args) -> int`. Modules are imported lazily so
that `--help` and light verbs never pay for torch.
"""

from __future__ import annotations

import argparse
import difflib
import errno
import importlib
import io
import os
import signal
import sys
import traceback

from pgolf import __version__
from pgolf.cli.help import HelpFormatter, epilog
from pgolf.errors import PgolfError
from pgolf.sanitize import terminal

# verb -> (module under pgolf.cli, one-line help)
VERBS: dict[str, tuple[str, str]] = {
    "prepare": ("prepare", "build the default corpus (or a user's text, or FineWeb) into shards + tokenizer"),
    "train": ("train", "train one seed (single process or under torchrun) and write the int8+zlib artifact"),
    "eval": ("eval", "score an artifact under one ablation condition: flat, doc, sliding or ttt"),
    "aggregate": ("aggregate", "collect per-seed eval JSONs into results tables"),
    "stats": ("stats", "t-test of the headline condition and paired comparisons between conditions"),
    "plots": ("plots", "render the ablation and per-position figures"),
    "report": ("report", "write the Markdown report"),
    "check-logs": ("check_logs", "reviewer mode: test a claim 'mean val_bpb < threshold' from loose train logs"),
    "check-record": ("check_record", "reviewer mode: check a record folder's claim, rules and progression"),
    "audit": ("audit", "reviewer mode: every record folder of a leaderboard (RECORDS_DIR), or every pull request "
                       "of a git mirror (--git REPO), each against the frontier"),
    "review-pr": ("review_pr", "review bot: judge a PR's record folders from git objects; write its comment"),
    "check-staged": ("check_staged", "pre-commit hook: check each staged record folder; non-zero blocks"),
    "rerun-seed": ("rerun_seed", "compliance rerun: one seed of a submission's own script under torchrun"),
    "rerun-check": ("rerun_check", "compliance rerun: the rerun logs checked against the submission's claim"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pgolf",
        description="Reproduce parameter-golf record #77 (sliding window + LoRA TTT) and test its claim; "
                    "review other submissions' claims from their train logs.",
        epilog="examples:\n  snakemake results/report.md --cores all     # the whole pipeline (calls the verbs)\n"
               "  pgolf audit records/track_10min_16mb --out results/audit\n  pgolf VERB --help\n\n"
               "`python -m pgolf` is the same program as `pgolf`.",
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"pgolf {__version__}")
    sub = parser.add_subparsers(dest="verb", metavar="VERB")
    for verb, (_module, help_text) in VERBS.items():
        sub.add_parser(verb, help=help_text, add_help=False)
    return parser


def unknown_verb(word: str) -> str:
    """The error for a word that is no verb, with the closest verbs when a typo is likely."""
    close = difflib.get_close_matches(word, VERBS, n=3, cutoff=0.6)
    hint = f"; did you mean {' or '.join(repr(v) for v in close)}?" if close else ""
    return f"unknown verb {word!r}{hint} (verbs: {', '.join(VERBS)})"


def verb_parser(verb: str, module) -> argparse.ArgumentParser:
    """The verb's own parser: its options with their defaults, and examples, in --help."""
    parser = argparse.ArgumentParser(prog=f"pgolf {verb}", description=VERBS[verb][1], epilog=epilog(verb),
                                     formatter_class=HelpFormatter)
    module.add_arguments(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0].startswith("-") or argv[0] not in VERBS:
        parser = build_parser()
        if argv and not argv[0].startswith("-"):
            parser.error(unknown_verb(argv[0]))
        if argv:
            parser.parse_args(argv)  # --help, --version, or an unknown option: argparse answers and exits
        parser.print_help()
        return 0
    verb, rest = argv[0], argv[1:]
    module = importlib.import_module(f"pgolf.cli.{VERBS[verb][0]}")
    args = verb_parser(verb, module).parse_args(rest)
    try:
        return int(module.main(args) or 0)
    except PgolfError as exc:
        return _error(verb, str(exc))
    except OSError as exc:  # the file system said no: one line naming the path and what to do
        return _error(verb, os_error_text(exc))
    except UnicodeDecodeError as exc:
        return _error(verb, f"{file_of(exc)}: not UTF-8 text ({exc.reason} at byte {exc.start}); give a UTF-8 file")
    except RecursionError as exc:
        return _error(verb, f"{file_of(exc)}: nested too deeply to read (thousands of levels); it is not a pgolf file")
    except MemoryError:
        return _error(verb, "an input asks for more memory than this machine has; check its sizes")
    except KeyboardInterrupt:
        print(f"pgolf {verb}: interrupted; earlier outputs are as they were", file=sys.stderr)
        return 130
    except Exception:  # a genuine bug: its traceback, and a line that says so
        traceback.print_exc()
        print(f"pgolf {verb}: internal error: this is a bug in pgolf, not a problem with your input; please "
              "report it with the command and the traceback above", file=sys.stderr)
        return 70


def _terminate_like_interrupt() -> None:
    """SIGTERM (a scheduler's stop, `kill`, Snakemake's group) ends a verb as Ctrl-C does: its `finally`
    blocks run, so a staging folder (`train.partial`) goes and earlier outputs stay as they were."""

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)


def os_error_text(exc: OSError) -> str:
    """`[Errno 28] No space left` on a path as one line with what to do."""
    where = exc.filename if exc.filename is not None else "a file"
    hints = {errno.ENOSPC: "free space on that disk or write elsewhere (--out)",
             errno.EROFS: "the file system is read-only; write elsewhere (--out)",
             errno.EACCES: "no permission; fix its permissions or write elsewhere",
             errno.EISDIR: "it is a directory; give a file", errno.ENOTDIR: "a parent of it is a file, not a folder",
             errno.ENOENT: "no such file or folder; check the path", errno.EXDEV: "another file system"}
    return f"{where}: {exc.strerror or exc}; {hints.get(exc.errno, 'check the path')}"


def file_of(exc: BaseException) -> str:
    """The file an exception was raised reading, for an error that does not carry one (a decode error, a recursion
    error from a parser): the innermost frame of its traceback holding an open file or a path. Every reader of
    pgolf.inputs names its file itself; this names the file when some other reader did not."""
    frames, tb = [], exc.__traceback__
    while tb is not None:
        frames.append(tb.tb_frame)
        tb = tb.tb_next
    for frame in reversed(frames):
        for value in frame.f_locals.values():
            if isinstance(value, io.IOBase) and isinstance(getattr(value, "name", None), str):
                return value.name
            if isinstance(value, os.PathLike):
                return os.fspath(value)
    return "an input file (its reader did not say which)"


def _error(verb: str, text: str) -> int:
    # an error names submission text (a folder, a file, a value): printed inert (sanitize.terminal)
    print(f"pgolf {verb}: error: {terminal(text)}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    _terminate_like_interrupt()  # the process's own handler; a test calling main() keeps pytest's
    sys.exit(main())
