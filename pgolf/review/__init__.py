"""Reviewer side: read train logs of every family, check record folders, flag rule breaks, audit a leaderboard.

- `reader`: one train log -> `ParsedRun` (every stage it printed, sizes, times, seed, split).
- `claim`: a submission.json -> `Claim` (headline, per-seed values, byte counts, at printed digits).
- `record`: one record folder (or logs + a claim folder) -> the record.json dict (`check_record`).
- `flags`: every rule and problem class, each a `Flag(severity, run, text)`.
- `audit`: every record folder of a leaderboard, in order, each against its previous.
- `loose`: `check-logs` on loose logs (no submission.json).
- `render`: runs tables and the Markdown reports; `frontier`: the audit's figure; `outputs`: the files of each verb.
Statistics come only from `pgolf.stats`.
"""
