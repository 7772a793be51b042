"""Errors of the search-space layer."""


class SearchSpaceError(ValueError):
    """A domain, a space or a configuration is invalid; the message says what and how to fix it."""
