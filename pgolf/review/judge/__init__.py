"""Judging: one record and its statistics (`record`), the progression of the pull-request stream
(`progression`, `stream`), the published table and its diff (`published`), a directory of records (`audit`),
loose logs (`loose`)."""
