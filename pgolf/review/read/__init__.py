"""Reading, nothing judged: train logs (`log`, `text`), submission.json (`claim`), a record folder matched to its
claim (`record`), wrapped scripts (`unwrap`, `scripts`), printed settings (`config`), byte arithmetic
(`bytecount`), run names (`names`). What is read stays what the files say."""
