"""A named, parameterised query: its name (for logs and errors), Cypher text, parameters and result columns.

Parameters and columns are read off the text once, when the query is defined, so a call that passes a
parameter the text does not use (or forgets one) fails at once, naming the query, and every result has
exactly the declared columns whatever the backend returns for an empty result.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["Query"]

_PARAM = re.compile(r"\$(\w+)")
_ALIAS = re.compile(r"\bAS\s+(\w+)")
_RETURN = re.compile(r"(?:^|\s)RETURN\s")


@dataclass(frozen=True)
class Query:
    """>>> q = Query("profile_of_record", "MATCH (r:Record {key: $key}) RETURN r.key AS record")
    >>> q.params, q.columns
    (('key',), ('record',))
    """

    name: str
    text: str
    params: tuple[str, ...] = field(init=False)
    columns: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", tuple(dict.fromkeys(_PARAM.findall(self.text))))
        parts = _RETURN.split(self.text)
        returned = parts[-1] if len(parts) > 1 else ""
        object.__setattr__(self, "columns", tuple(_ALIAS.findall(returned)))

    def check(self, params: dict[str, object]) -> None:
        """Fail on a parameter the text does not take, or one it needs and was not given."""
        given, wanted = set(params), set(self.params)
        if given != wanted:
            raise TypeError(
                f"query '{self.name}' takes {sorted(wanted)}; got {sorted(given)} "
                f"(missing {sorted(wanted - given)}, unexpected {sorted(given - wanted)})"
            )
