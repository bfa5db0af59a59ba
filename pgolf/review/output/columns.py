"""The columns of every CSV the review writes, each table's list in one place."""

from __future__ import annotations

RUN_COLUMNS = ["record", "file", "part", "seed", "world_size", "stage", "val_loss", "val_bpb", "train_time_ms",
               "eval_time_ms", "total_eval_time_ms", "total_bytes", "implied_val_bytes", "bytes_per_token",
               "stage_bytes", "steps", "counted", "error",
               "flags"]
RECORD_COLUMNS = ["record", "date", "n", "mean_bpb", "std", "claimed_bpb", "claim_supported", "stage", "previous",
                  "p_previous", "p_previous_margin", "holds_rule", "holds_practice", "threshold", "p_threshold", "quoted_p",
                  "n_errors", "flags"]
SUBMISSION_COLUMNS = ["pr", "ref", "commit", "date", "folder", "on_main", "n", "mean_bpb", "claimed_bpb",
                      "claim_supported", "stage", "verdict", "reasons", "flags", "frontier_pr", "p_frontier",
                      "p_frontier_margin", "holds_rule", "reproduces", "evidence_from", "version", "version_commit",
                      "free_verdict", "free_reasons"]
LEADERBOARD_COLUMNS = ["rank", "pr", "folder", "mean_bpb", "n", "previous_pr", "p_previous", "method"]
DIFF_COLUMNS = ["pr", "folder", "score", "in_table", "in_rebuild", "reason", "listed", "displaced"]
