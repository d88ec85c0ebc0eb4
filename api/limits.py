"""The ranges of the GraphQL API's paging arguments, declared once: the resolvers check them and the
schema's argument descriptions state them. A value out of range is an error saying the range, never
silently clamped."""

from __future__ import annotations

from dataclasses import dataclass

from graph.errors import InvalidRequest

__all__ = ["AUDIT_FIRST", "EVENTS_LIMIT", "LOOKALIKE_SIZE", "PROFILES_FIRST", "RECOMMENDATIONS_K", "SIMILAR_K", "Limit"]


@dataclass(frozen=True)
class Limit:
    """The allowed range of the argument ``name``: ``low`` to ``high`` (no upper bound when None).

    >>> Limit("first", 0, 500).check(20)
    20
    >>> Limit("first", 0, 500).check(501)
    Traceback (most recent call last):
    ...
    graph.errors.InvalidRequest: first must be between 0 and 500 (got 501)
    """

    name: str
    low: int
    high: int | None = None

    @property
    def allowed(self) -> str:
        return f"at least {self.low}" if self.high is None else f"between {self.low} and {self.high}"

    def check(self, value: int) -> int:
        """``value`` when in range, else :class:`InvalidRequest` naming the range."""
        if value < self.low or (self.high is not None and value > self.high):
            raise InvalidRequest(f"{self.name} must be {self.allowed} (got {value})")
        return value

    def describe(self, what: str) -> str:
        """An argument description for the schema: ``what`` and the range."""
        return f"{what}; {self.allowed}"


#: profiles(first:): a page of the profile list
PROFILES_FIRST = Limit("first", 0, 500)
#: Profile.events(limit:): all of a profile's events are read anyway, and there is no next page to ask
#: for; the bound keeps one answer's size in reach (the query cost counts it too, api.query_limits)
EVENTS_LIMIT = Limit("limit", 0, 10_000)
#: Profile.recommendations(k:)
RECOMMENDATIONS_K = Limit("k", 0, 100)
#: similarProfiles(k:)
SIMILAR_K = Limit("k", 0, 500)
#: lookalikeAudience(size:)
LOOKALIKE_SIZE = Limit("size", 0, 10_000)
#: auditLog(first:)
AUDIT_FIRST = Limit("first", 0, 10_000)
#: profilesByName(first:)
NAME_SEARCH_FIRST = Limit("first", 0, 100)
#: previewSegment(sample:)
SEGMENT_SAMPLE = Limit("sample", 0, 100)
#: reviewQueue(first:): pairs and flagged profiles (the queue holds up to 100 of each, more after incremental runs)
REVIEW_FIRST = Limit("first", 0, 500)
