"""Condition logic: ``and``, ``or`` or custom logic over numbered conditions.

Flow elements combine their conditions with ``entryConditionLogic``,
``exitConditionLogic``, ``conditionLogic`` or ``filterLogic``: ``and`` (all),
``or`` (any), or custom logic such as ``1 AND (2 OR NOT 3)``. Custom logic is parsed
by the workflow booleanFilter parser
(:func:`workroute.metadata.workflow.parse_boolean_filter_expr`): one grammar for both.
"""

from __future__ import annotations

from collections.abc import Callable

from workroute.metadata.workflow import (
    BooleanFilterError,
    FilterAnd,
    FilterExpr,
    FilterNot,
    FilterOr,
    FilterRef,
    filter_refs,
    parse_boolean_filter_expr,
)

__all__ = [
    "FilterExpr",
    "logic_holds",
    "logic_problems",
    "logic_tree",
]


def _simple(logic: str | None) -> str | None:
    word = (logic or "and").strip().lower()
    return word if word in ("and", "or") else None


def logic_tree(logic: str | None, count: int) -> FilterExpr | None:
    """The tree of ``logic`` over conditions ``1..count`` (None: no conditions, which
    always hold). ``None`` logic means ``and``. Raises :class:`BooleanFilterError`
    for custom logic that does not parse."""
    simple = _simple(logic)
    if simple is None:
        assert logic is not None
        return parse_boolean_filter_expr(logic)
    if count == 0:
        return None
    refs = tuple(FilterRef(n) for n in range(1, count + 1))
    if count == 1:
        return refs[0]
    return FilterAnd(refs) if simple == "and" else FilterOr(refs)


def logic_holds(tree: FilterExpr | None, holds: Callable[[int], bool]) -> bool:
    """Evaluate ``tree``; ``holds(n)`` says whether condition ``n`` (1-based) holds.
    Conditions are asked lazily, left to right, as AND/OR short-circuit."""
    if tree is None:
        return True
    if isinstance(tree, FilterRef):
        return holds(tree.n)
    if isinstance(tree, FilterNot):
        return not logic_holds(tree.operand, holds)
    if isinstance(tree, FilterAnd):
        return all(logic_holds(op, holds) for op in tree.operands)
    return any(logic_holds(op, holds) for op in tree.operands)


def logic_problems(logic: str | None, count: int, element: str) -> list[str]:
    """Why ``logic`` (the text of ``<element>``) is not valid over ``count``
    conditions: it does not parse, names a condition that does not exist, or leaves
    one out."""
    if _simple(logic) is not None:
        return []
    assert logic is not None
    if count == 0:
        return [f"{element} '{logic}' is custom logic, but there are no conditions"]
    try:
        refs = filter_refs(parse_boolean_filter_expr(logic))
    except BooleanFilterError as exc:
        return [f"{element} '{logic}' is not valid: {exc}"]
    out = [
        f"{element} '{logic}' references condition {n}; there "
        + ("is 1 condition" if count == 1 else f"are {count} conditions")
        for n in sorted(set(refs))
        if not 1 <= n <= count
    ]
    unused = sorted(set(range(1, count + 1)) - set(refs))
    if unused:
        listed = ", ".join(str(n) for n in unused)
        out.append(f"{element} '{logic}' does not use condition(s) {listed}")
    return out
