"""One exception hierarchy for the whole project; every layer raises these, never a driver's own."""


class CdpError(Exception):
    """Base of every error cdp-graph raises on purpose."""


class ConfigError(CdpError):
    """A configuration file, setting or argument is wrong; the message names what and where."""


class StoreUnavailable(CdpError):
    """The graph store cannot be reached or refused the credentials."""


class StoreError(CdpError):
    """A query failed inside the store; carries the name of the query that failed."""

    def __init__(self, query_name: str, message: str) -> None:
        super().__init__(f"graph query '{query_name}' failed: {message}")
        self.query_name = query_name


class NotFound(CdpError):
    """An id, record or identifier asked for does not exist."""


class InvalidRequest(CdpError, ValueError):
    """A request names things that exist but asks for something that cannot be done (merging a profile
    with itself, splitting off every record); the message names the ids involved."""
