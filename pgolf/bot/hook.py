"""The pre-commit hook `pgolf-check-record`: each staged record folder checked as check-record reads it.

pre-commit passes the staged paths (and stashes what is not staged, so the working tree holds what
will be committed). Every record folder those paths lie in is judged with the bot's evidence checks
and printed as the comment prints it; a folder that does not hold blocks the commit (exit 1).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from pgolf.bot.comment import folder_section
from pgolf.bot.judge import DEFAULT_TRACK, judge_folder


def staged_folders(paths: Sequence[str], track: str = DEFAULT_TRACK) -> list[str]:
    """The record folders (records/<track>/<name>) holding the given paths, each once, in order."""
    prefix = f"records/{track}/"
    inside = [path[len(prefix):] for p in paths if (path := Path(p).as_posix()).startswith(prefix)]
    names = [rest.split("/", 1)[0] for rest in inside if "/" in rest]  # a file directly in the track is none
    return [prefix + name for name in dict.fromkeys(names)]


def check_staged(paths: Sequence[str], root: str | Path = ".", track: str = DEFAULT_TRACK) -> int:
    """Print each staged record folder's review; 1 when one of them does not hold, else 0."""
    worst = 0
    for folder in staged_folders(paths, track):
        if not (Path(root) / folder).is_dir():  # the commit deletes it
            continue
        review = judge_folder(Path(root) / folder, folder)
        sys.stdout.write(folder_section(review) + "\n\n")
        worst = max(worst, 0 if review.holds else 1)
    return worst
