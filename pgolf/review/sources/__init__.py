"""Where a submission's files come from: a folder on disk (`folder`) or a folder inside a git commit (`git`),
both behind `FolderFiles`."""
