"""Compliance reruns: a submission's own script run again for its seeds, and checked against its claim.

- `claim`: what a record folder's `submission.json` claims per seed (the seeds to rerun).
- `seed`: one seed's run under torchrun in a fresh copy of the folder (timeout, logs, wall time).
- `check`: the rerun logs through the reviewer's record check, and the Welch test against the claim.
"""
