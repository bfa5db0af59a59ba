"""What a folder's source could not give: a file left out of the review, named with the reason."""

from __future__ import annotations

from pgolf.review.model import Finding
from pgolf.review.rules.inputs import RecordInput
from pgolf.review.rules.registry import rule


@rule("files.left_out", severity="error", scope="claim")
def left_out(x: RecordInput) -> list[Finding]:
    """A path of the folder that the review left out: a link that leads out of the folder (pgolf never follows
    one: its target would reach the reports), a submodule. The rest of the folder is judged without it.

    >>> import os, tempfile
    >>> from pathlib import Path
    >>> from pgolf.review.judge.record import load_record
    >>> from pgolf.review.rules.examples import texts
    >>> folder = Path(tempfile.mkdtemp()) / "2026-03-19_Example"
    >>> folder.mkdir()
    >>> os.symlink("/etc/hostname", folder / "train_gpt.py")
    >>> texts(left_out(RecordInput(load_record(folder))))[0].split(", outside")[0].split("Example/")[1]
    'train_gpt.py is a link to /etc/hostname'

    """
    files = x.rec.files
    return [Finding(why) for why in files.left_out()] if files is not None else []
