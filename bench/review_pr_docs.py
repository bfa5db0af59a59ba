"""Regenerate the three real comments of docs/review-bot.md from the challenge's repository.

    python bench/review_pr_docs.py --git REPO [--holds 1514] [--over-cap 1362] [--bytes 2071]

Runs `review-pr` on each PR and writes its comment.md, quoted and without the link to the full report,
between the `<!-- real-comments -->` markers of docs/review-bot.md.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "review-bot.md"
START, END = "<!-- real-comments -->", "<!-- /real-comments -->"


def quoted(pr: int, repo: Path, title: str) -> str:
    with tempfile.TemporaryDirectory() as out:
        done = subprocess.run([sys.executable, "-m", "pgolf", "review-pr", "--git", str(repo), "--pr", str(pr),
                               "--out", out, "--no-cache"], capture_output=True, text=True, cwd=ROOT)
        if done.returncode == 2:
            raise SystemExit(done.stderr)
        body = (Path(out) / "comment.md").read_text()
    lines = [line for line in body.splitlines() if not line.startswith("[Full report]")]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines))
    return f"### {title} (PR #{pr}, exit {done.returncode})\n\n" + "\n".join(
        f"> {line}" if line else ">" for line in text.splitlines())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--git", required=True, type=Path)
    ap.add_argument("--holds", type=int, default=1514)
    ap.add_argument("--over-cap", type=int, default=1362)
    ap.add_argument("--bytes", type=int, default=2071)
    args = ap.parse_args()
    parts = [quoted(args.holds, args.git, "Holds"), quoted(args.over_cap, args.git, "Over the cap"),
             quoted(args.bytes, args.git, "A byte-accounting error")]
    doc = DOC.read_text()
    head, rest = doc.split(START, 1)
    DOC.write_text(head + START + "\n\n" + "\n\n".join(parts) + "\n\n" + END + rest.split(END, 1)[1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
