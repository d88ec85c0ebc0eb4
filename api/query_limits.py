"""Limits on what one GraphQL operation may ask for, checked after parsing and before anything is read.

A query is refused, with an error naming the limit and the setting that raises it, when it nests deeper
than ``max_query_depth``, holds more than ``max_query_aliases`` aliases, or its estimated cost exceeds
``max_query_cost``. The cost counts every field the answer would hold: a list field multiplies what is
under it by its size argument (``first``, ``limit``, ``k``, ``size``, the variable's value included) or,
without one, by an estimate of its length (:data:`LIST_ESTIMATES`). So ``household`` nested in ``household``
grows like the answer it asks for, and 100 aliased pages of profiles cost 100 pages.

Lists a profile holds (records, identifiers, history, household) are capped at ``max_list_size`` items;
a capped list says so in the answer's ``extensions.capped`` (field path, items returned, items held).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
)
from graphql.validation import ValidationContext, ValidationRule
from strawberry.extensions import AddValidationRules, SchemaExtension
from strawberry.extensions.max_aliases import create_validator as create_alias_validator
from strawberry.extensions.query_depth_limiter import create_validator

from api import limits as ranges
from graph.errors import InvalidRequest

__all__ = ["LIST_ESTIMATES", "CappedLists", "QueryLimits", "capped", "estimated_cost", "limit_extensions"]

#: arguments that size a list field
SIZE_ARGUMENTS = ("first", "limit", "k", "size")
#: the expected length of a list field without a size argument (``edges``: its connection's ``first`` counted)
LIST_ESTIMATES: dict[str, int] = {"edges": 1, "household": 5, "profilesByIdentifier": 3}
DEFAULT_LIST_ESTIMATE = 10
#: the range of each size argument (api.limits)
SIZE_RANGES: dict[tuple[str, str], ranges.Limit] = {
    ("profiles", "first"): ranges.PROFILES_FIRST, ("events", "limit"): ranges.EVENTS_LIMIT,
    ("recommendations", "k"): ranges.RECOMMENDATIONS_K, ("similarProfiles", "k"): ranges.SIMILAR_K,
    ("lookalikeAudience", "size"): ranges.LOOKALIKE_SIZE, ("auditLog", "first"): ranges.AUDIT_FIRST,
    ("reviewQueue", "first"): ranges.REVIEW_FIRST, ("profilesByName", "first"): ranges.NAME_SEARCH_FIRST,
}  # fmt: skip


@dataclass(frozen=True)
class QueryLimits:
    """The limits of :mod:`api.query_limits`; each is a ``CDP_*`` setting (:class:`graph.settings.Settings`)."""

    max_depth: int = 12
    max_aliases: int = 20
    max_cost: int = 50_000
    max_list_size: int = 1_000


def estimated_cost(
    operation: OperationDefinitionNode,
    root: GraphQLObjectType,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any] | None = None,
) -> int:
    """The number of values the answer to ``operation`` would hold, lists at their size argument or estimate.
    O(size of the query with fragments expanded); a fragment spread inside itself counts once."""
    return _cost(operation.selection_set, root, 1, fragments, dict(variables or {}), ())


def _cost(
    selections: SelectionSetNode,
    parent: Any,
    multiplier: int,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: dict[str, Any],
    spreads: tuple[str, ...],
    sized: int | None = None,
) -> int:
    """``sized``: the size argument of the object holding these selections, which sizes its lists
    (``profiles(first:) { edges }``, ``reviewQueue(first:) { pairs flagged }``)."""
    total = 0
    for node in selections.selections:
        if isinstance(node, FieldNode):
            field = getattr(parent, "fields", {}).get(node.name.value)
            if field is None:  # __typename and introspection: no store read
                continue
            lists = None
            if not _is_list(field.type) and _has_size_argument(node):  # an object whose argument sizes its lists
                size, lists = multiplier, _list_size(node, field.type, variables)
            elif _is_list(field.type) and sized is not None and not _has_size_argument(node):
                size = sized * multiplier
            else:
                size = _list_size(node, field.type, variables) * multiplier
            total += size
            if node.selection_set is not None:
                kind = get_named_type(field.type)
                total += _cost(node.selection_set, kind, size, fragments, variables, spreads, lists)
        elif isinstance(node, InlineFragmentNode):
            total += _cost(node.selection_set, parent, multiplier, fragments, variables, spreads, sized)
        elif isinstance(node, FragmentSpreadNode) and node.name.value not in spreads:
            found = fragments.get(node.name.value)
            if found is not None:
                names = (*spreads, node.name.value)
                total += _cost(found.selection_set, parent, multiplier, fragments, variables, names, sized)
    return total


def _is_list(kind: Any) -> bool:
    return isinstance(kind.of_type if isinstance(kind, GraphQLNonNull) else kind, GraphQLList)


def _has_size_argument(node: FieldNode) -> bool:
    return any(argument.name.value in SIZE_ARGUMENTS for argument in node.arguments or ())


def _list_size(node: FieldNode, kind: Any, variables: Mapping[str, Any]) -> int:
    for argument in node.arguments or ():
        if argument.name.value in SIZE_ARGUMENTS:
            value = argument.value
            if isinstance(value, IntValueNode):
                size: Any = int(value.value)
            elif isinstance(value, VariableNode):
                size = variables.get(value.name.value)
            else:
                continue
            allowed = SIZE_RANGES.get((node.name.value, argument.name.value))
            in_range = isinstance(size, int) and (allowed is None or allowed.low <= size <= (allowed.high or size))
            # out of its range (or not an Int): its resolver or coercion refuses it, saying the range
            return max(size, 1) if in_range else 1
    inner = kind.of_type if isinstance(kind, GraphQLNonNull) else kind
    if isinstance(inner, GraphQLList):
        return LIST_ESTIMATES.get(node.name.value, DEFAULT_LIST_ESTIMATE)
    return 1


class _CostLimit(SchemaExtension):
    """Refuses an operation whose :func:`estimated_cost` exceeds ``max_cost``. Listed after the validation
    cache: it runs once the query is known valid, and its error stops execution as a validation error does."""

    max_cost = 0

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and not context.pre_execution_errors:
            fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
            schema = context.schema._schema
            for operation in (d for d in document.definitions if isinstance(d, OperationDefinitionNode)):
                if context.operation_name and operation.name and operation.name.value != context.operation_name:
                    continue
                root = schema.get_root_type(operation.operation)
                cost = estimated_cost(operation, root, fragments, context.variables) if root else 0
                if cost > self.max_cost:
                    error = InvalidRequest(
                        f"query too costly: about {cost:,} values asked for, at most {self.max_cost:,} "
                        "(CDP_MAX_QUERY_COST); ask for fewer fields, smaller pages or less nesting"
                    )
                    context.pre_execution_errors = [GraphQLError(str(error), original_error=error)]
                    break
        yield


def limit_extensions(limits: QueryLimits) -> tuple[list[Any], list[Any]]:
    """The extensions that enforce ``limits``: those to list before the validation cache (they add
    validation rules) and those to list after it (they read its result)."""
    cost = type("CostLimit", (_CostLimit,), {"max_cost": limits.max_cost})
    # the rule classes are made once: the validation cache is keyed by them, and a class made per request
    # (as MaxAliasesLimiter(...) makes one) would validate every request anew
    rules = [_depth_rule(limits.max_depth), create_alias_validator(limits.max_aliases)]
    before = [lambda: AddValidationRules(rules)]
    return before, [cost, CappedLists]


def _depth_rule(max_depth: int) -> type[ValidationRule]:
    """strawberry's depth rule, but a spread of an unknown fragment (its ``KeyError``, which went out as the
    bare name) is left to graphql-core's own rule, which names it: "Unknown fragment 'X'."."""
    base = create_validator(max_depth, None)

    class DepthLimit(base):  # type: ignore[misc, valid-type]
        def __init__(self, context: ValidationContext) -> None:
            try:
                super().__init__(context)
            except KeyError:
                ValidationRule.__init__(self, context)

    return DepthLimit


class CappedLists(SchemaExtension):
    """Adds ``extensions.capped`` to an answer holding a list cut at ``max_list_size`` (see :func:`capped`)."""

    def get_results(self) -> dict[str, Any]:
        context = self.execution_context.context
        notes = context.get("capped") if isinstance(context, dict) else None
        return {"capped": notes} if notes else {}


def capped(context: dict[str, Any], path: Any, items: list[Any]) -> list[Any]:
    """``items`` cut to the request's ``max_list_size``, noting the cut (path, returned, held) for the answer."""
    limit = context.get("limits", QueryLimits()).max_list_size
    if len(items) <= limit:
        return items
    where = ".".join(str(p) for p in path.as_list()) if hasattr(path, "as_list") else str(path)
    context.setdefault("capped", []).append({"path": where, "returned": limit, "held": len(items)})
    return items[:limit]
