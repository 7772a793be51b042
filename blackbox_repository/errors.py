"""Errors of the blackbox repository."""


class BlackboxError(ValueError):
    """A benchmark is unknown, malformed or cannot be built; the message names the fix."""


class ChecksumError(BlackboxError):
    """A stored benchmark file does not match the SHA-256 recorded in its metadata."""
