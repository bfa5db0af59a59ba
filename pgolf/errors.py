"""The one exception type users see as a clean message instead of a traceback."""


class PgolfError(Exception):
    """Bad input or state: the message says what, where, and what to do."""


class DataError(PgolfError):
    """A data file (shard, manifest, corpus) is missing or malformed."""


class ConfigError(PgolfError):
    """A configuration key or value is wrong."""


class ArtifactError(PgolfError):
    """A checkpoint or int8+zlib artifact is not what pgolf can load safely."""


class OutputError(PgolfError):
    """An output cannot be written where it was asked for (a folder in the way, a full disk)."""
