"""Errors of ``plotting`` that are meant for the user (one line each)."""


class LoadError(ValueError):
    """Stored results cannot be read as asked (one line, meant for the user)."""
