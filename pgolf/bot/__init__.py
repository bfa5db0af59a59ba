"""The review bot: `review-pr` (a PR's record folders judged from git objects), its comment, its GitHub
workflow commands, and the pre-commit hook. The bot reads pgolf.review only through `judge.py`."""
