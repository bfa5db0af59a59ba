"""Reviewer side: read train logs of every family, check record folders, flag rule breaks, audit a leaderboard.

Data flows one way, source -> read -> rules -> judge -> output; `verbs` wires them for each command.

- `model`: the values everything passes (ParsedRun, Stage, Flag, Finding); `settings`: limits and levels.
- `sources/`: a folder on disk or inside a git commit, behind `FolderFiles`.
- `read/`: train logs, submission.json, a record folder matched to its claim; nothing judged.
- `rules/`: every check as a registered rule (id, severity, scope, since, source); see docs/rules.md.
- `judge/`: one record's statistics, the progression of the PR stream, the published table's diff.
- `output/`: Markdown reports, HTML pages (templates/), the frontier figure.
- `verbs`: check-record, audit (directory and --git): the files each writes; `judge.loose`: check-logs.
Statistics come only from `pgolf.stats`.
"""
