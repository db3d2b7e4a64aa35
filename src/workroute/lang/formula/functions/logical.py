"""Logical functions: AND OR NOT IF CASE ISBLANK ISNULL BLANKVALUE NULLVALUE ISNUMBER
ISCHANGED ISNEW ISCLONE PRIORVALUE ISPICKVAL.

Null semantics (Salesforce's formula engine): IF treats a null condition as false;
AND/OR treat a null argument as false; NOT(null) is null. Text is never null: a
blank text is ``""`` or ``None`` and both are blank.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from workroute.lang.formula.ast import FieldRef
from workroute.lang.formula.context import EvalContext
from workroute.lang.formula.errors import ArgumentError
from workroute.lang.formula.functions import (
    BOOLEAN_ARG,
    PICKLIST_ARG,
    TEXT_ARG,
    Accept,
    CheckCall,
    CompileCall,
    Evaluator,
    FunctionSpec,
    illegal_argument,
    unify,
    where,
    wrong_count,
    wrong_type,
)
from workroute.lang.formula.types import (
    CHECKBOX,
    NULL,
    FieldBinding,
    FormulaType,
    Kind,
)
from workroute.lang.formula.values import (
    multipicklist_values,
    parse_number,
    to_decimal,
    to_utc,
)

_NOT_BOOLEAN = Accept("Object", frozenset(Kind) - {Kind.CHECKBOX})
_NOT_BOOLEAN_OR_LOCATION = Accept("Object", frozenset(Kind) - {Kind.CHECKBOX, Kind.GEOLOCATION})


def blank_test(ftype: FormulaType) -> Callable[[Any], bool]:
    """Whether a value of ``ftype`` is blank (ISBLANK's notion)."""
    kind = ftype.kind
    if ftype.is_text or kind is Kind.PICKLIST:
        return lambda v: v is None or v == ""
    if kind is Kind.MULTIPICKLIST:
        return lambda v: v is None or len(v) == 0
    if kind is Kind.GEOLOCATION:
        return lambda v: v is None or v[0] is None or v[1] is None
    return lambda v: v is None


# --------------------------------------------------------------------- AND OR NOT


def _check_booleans(call: CheckCall) -> FormulaType:
    call.require_all(BOOLEAN_ARG)
    return CHECKBOX


def _compile_and(call: CompileCall) -> Evaluator:
    fns = call.fns
    if len(fns) == 1:
        (a,) = fns
        return lambda ctx: a(ctx) is True
    if len(fns) == 2:
        a, b = fns
        return lambda ctx: a(ctx) is True and b(ctx) is True
    if len(fns) == 3:
        a, b, c = fns
        return lambda ctx: a(ctx) is True and b(ctx) is True and c(ctx) is True

    def and_(ctx: EvalContext) -> bool:
        for f in fns:
            if f(ctx) is not True:
                return False
        return True

    return and_


def _compile_or(call: CompileCall) -> Evaluator:
    fns = call.fns
    if len(fns) == 1:
        (a,) = fns
        return lambda ctx: a(ctx) is True
    if len(fns) == 2:
        a, b = fns
        return lambda ctx: a(ctx) is True or b(ctx) is True
    if len(fns) == 3:
        a, b, c = fns
        return lambda ctx: a(ctx) is True or b(ctx) is True or c(ctx) is True

    def or_(ctx: EvalContext) -> bool:
        for f in fns:
            if f(ctx) is True:
                return True
        return False

    return or_


def compile_not(a: Evaluator, record_key: str | None = None) -> Evaluator:
    """NOT of ``a``; of the record's own checkbox ``record_key`` (read directly, one
    call fewer) when ``a`` reads just that."""
    if record_key is not None:
        key = record_key

        def not_field(ctx: EvalContext) -> bool | None:
            v = ctx.record.get(key)
            return None if v is None else not v

        return not_field

    def not_(ctx: EvalContext) -> bool | None:
        v = a(ctx)
        return None if v is None else not v

    return not_


def _compile_not(call: CompileCall) -> Evaluator:
    return compile_not(call.fns[0], call.codes[0].record_key)


# ----------------------------------------------------------------------------- IF


def _check_if(call: CheckCall) -> FormulaType:
    call.require(0, BOOLEAN_ARG)
    then, else_ = call.type(1), call.type(2)
    common = unify(then, else_)
    if common is None:
        raise wrong_type(call.what, [then.label], else_, call.args[2].node)
    return common


def _compile_if(call: CompileCall) -> Evaluator:
    cond, then, else_ = call.codes
    if cond.const:
        return then.fn if cond.value is True else else_.fn
    c, t, e = cond.fn, then.fn, else_.fn
    return lambda ctx: t(ctx) if c(ctx) is True else e(ctx)


# --------------------------------------------------------------------------- CASE


def _check_case(call: CheckCall) -> FormulaType:
    n = len(call.args)
    if n < 4 or n % 2:
        raise wrong_count(call.what, 4 if n < 4 else n - 1, n, call.node)
    exp = call.type(0)
    if exp.kind in (Kind.CHECKBOX, Kind.GEOLOCATION, Kind.MULTIPICKLIST):
        raise illegal_argument(call.what, call.node)
    picklist = exp.kind is Kind.PICKLIST
    common = NULL
    for i in range(1, n - 1, 2):
        if picklist:
            call.require_literal(i)
        else:
            when = call.type(i)
            if when.kind is Kind.CHECKBOX:
                raise illegal_argument(call.what, call.node)
            if exp.is_null:
                exp = when
            if unify(when, exp) is None:
                raise wrong_type(call.what, [exp.label], when, call.args[i].node)
        common = _case_result(call, i + 1, common)
    return _case_result(call, n - 1, common)


def _case_result(call: CheckCall, i: int, common: FormulaType) -> FormulaType:
    value = call.type(i)
    if value.kind is Kind.CHECKBOX:
        raise illegal_argument(call.what, call.node)
    merged = unify(common, value)
    if merged is None:
        raise wrong_type(call.what, [common.label], value, call.args[i].node)
    return merged


def _case_key(ftype: FormulaType) -> Callable[[Any], Any]:
    """How CASE normalises a value before comparing (text: blank is "")."""
    if ftype.is_text or ftype.kind is Kind.PICKLIST:
        return lambda v: "" if v is None else v
    if ftype.kind is Kind.DATETIME:
        return lambda v: v if v is None else to_utc(v)
    return lambda v: v


def _compile_case(call: CompileCall) -> Evaluator:
    codes = call.codes
    args = call.args
    exp_type = args[0].type
    if exp_type.is_null:
        exp_type = next((a.type for a in args[1:-1:2] if not a.type.is_null), exp_type)
    key = _case_key(exp_type)
    text_like = exp_type.is_text or exp_type.kind is Kind.PICKLIST
    subject = codes[0].fn
    else_ = codes[-1].fn
    whens = codes[1:-1:2]
    results = [c.fn for c in codes[2:-1:2]]
    if all(w.const for w in whens):
        table: dict[Any, Evaluator] = {}
        for when, result in zip(whens, results, strict=True):
            if when.value is None and not text_like:
                continue  # comparing with null never matches
            table.setdefault(key(when.value), result)
        get = table.get

        def case_table(ctx: EvalContext) -> Any:
            v = subject(ctx)
            if v is None and not text_like:
                return else_(ctx)
            return get(key(v), else_)(ctx)

        return case_table
    pairs = [(w.fn, r) for w, r in zip(whens, results, strict=True)]

    def case(ctx: EvalContext) -> Any:
        v = subject(ctx)
        if v is None and not text_like:
            return else_(ctx)
        v = key(v)
        for when, result in pairs:
            w = when(ctx)
            if (w is not None or text_like) and key(w) == v:
                return result(ctx)
        return else_(ctx)

    return case


# -------------------------------------------------------------- ISBLANK / ISNULL


def _check_isblank(call: CheckCall) -> FormulaType:
    call.forbid(0, _NOT_BOOLEAN)
    return CHECKBOX


def _compile_isblank(call: CompileCall) -> Evaluator:
    code = call.codes[0]
    ftype = call.args[0].type
    key = code.record_key
    if key is not None and (ftype.is_text or ftype.kind is Kind.PICKLIST):

        def isblank_text_field(ctx: EvalContext) -> bool:
            v = ctx.record.get(key)
            return v is None or v == ""

        return isblank_text_field
    if key is not None and not call.blank_as_zero:
        if ftype.kind is Kind.MULTIPICKLIST:
            return lambda ctx: not ctx.record.get(key)
        if ftype.kind is not Kind.GEOLOCATION:
            return lambda ctx: ctx.record.get(key) is None
    blank = blank_test(ftype)
    a = code.fn
    return lambda ctx: blank(a(ctx))


def _compile_isnull(call: CompileCall) -> Evaluator:
    if call.args[0].type.is_text:
        # Text is never null in Salesforce: ISNULL(text) is always false.
        return lambda ctx: False
    return _compile_isblank(call)


# -------------------------------------------------------- BLANKVALUE / NULLVALUE


def _check_blankvalue(call: CheckCall) -> FormulaType:
    lhs = call.forbid(0, _NOT_BOOLEAN_OR_LOCATION)
    rhs = call.type(1)
    common = unify(lhs, rhs)
    if common is None:
        raise wrong_type(call.what, [lhs.label], rhs, call.args[1].node)
    return common


def _compile_blankvalue(call: CompileCall) -> Evaluator:
    blank = blank_test(call.args[0].type)
    a, b = call.fns

    def blankvalue(ctx: EvalContext) -> Any:
        v = a(ctx)
        return b(ctx) if blank(v) else v

    return blankvalue


def _compile_nullvalue(call: CompileCall) -> Evaluator:
    a, b = call.fns
    if call.args[0].type.is_text or call.args[1].type.is_text:
        return a  # text is never null: NULLVALUE(text, x) is the text

    def nullvalue(ctx: EvalContext) -> Any:
        v = a(ctx)
        return b(ctx) if v is None else v

    return nullvalue


# ----------------------------------------------------------------------- ISNUMBER


def _check_isnumber(call: CheckCall) -> FormulaType:
    call.forbid(0, TEXT_ARG)
    return CHECKBOX


def _compile_isnumber(call: CompileCall) -> Evaluator:
    a = call.fns[0]

    def isnumber(ctx: EvalContext) -> bool:
        v = a(ctx)
        return bool(v) and parse_number(v) is not None

    return isnumber


# ---------------------------------------------- ISCHANGED / PRIORVALUE / ISNEW ...


def own_field(call: CheckCall) -> FieldBinding:
    """The record field ISCHANGED()/PRIORVALUE() refers to; errors otherwise."""
    arg = call.args[0]
    node = arg.node
    if not isinstance(node, FieldRef) or arg.binding is None:
        raise illegal_argument(call.what, call.node)
    if arg.binding.source != "record":
        raise ArgumentError(
            f"The {call.name} function cannot reference the {node.dotted} field.",
            **where(node),
        )
    return arg.binding


def _check_ischanged(call: CheckCall) -> FormulaType:
    own_field(call)
    return CHECKBOX


def _normalizer(ftype: FormulaType) -> Callable[[Any], Any]:
    """How ISCHANGED normalises a stored value before comparing old and new."""
    if ftype.is_text or ftype.kind is Kind.PICKLIST:
        return lambda v: None if v is None or v == "" else v.replace("\r\n", "\n")
    if ftype.is_number:
        return lambda v: None if v is None else to_decimal(v)
    if ftype.kind is Kind.MULTIPICKLIST:
        return lambda v: tuple(sorted(multipicklist_values(v))) or None
    if ftype.kind is Kind.DATETIME:
        return lambda v: to_utc(v) if isinstance(v, datetime) else v
    if ftype.kind is Kind.GEOLOCATION:
        return lambda v: None if v is None else tuple(to_decimal(x) for x in v)
    return lambda v: v


def _compile_ischanged(call: CompileCall) -> Evaluator:
    binding = call.args[0].binding
    assert binding is not None
    key = binding.key
    norm = _normalizer(binding.type)
    if binding.type.is_number:

        def ischanged_number(ctx: EvalContext) -> bool:
            prior = ctx.prior
            if prior is None:
                return False
            old, new = prior.get(key), ctx.record.get(key)
            if old is None or new is None:
                return (old is None) is not (new is None)
            if type(old) is type(new) and type(old) is not float:
                return bool(old != new)
            return to_decimal(old) != to_decimal(new)

        return ischanged_number

    def ischanged(ctx: EvalContext) -> bool:
        prior = ctx.prior
        if prior is None:
            return False
        return bool(norm(prior.get(key)) != norm(ctx.record.get(key)))

    return ischanged


def _check_priorvalue(call: CheckCall) -> FormulaType:
    binding = own_field(call)
    if binding.type.kind is Kind.GEOLOCATION:
        raise illegal_argument(call.what, call.node)
    return call.type(0)


def _compile_priorvalue(call: CompileCall) -> Evaluator:
    binding = call.args[0].binding
    assert binding is not None
    return call.read_prior(binding)


def _check_nothing(call: CheckCall) -> FormulaType:
    return CHECKBOX


def _compile_isnew(call: CompileCall) -> Evaluator:
    return lambda ctx: ctx.prior is None


def _compile_isclone(call: CompileCall) -> Evaluator:
    return lambda ctx: ctx.is_clone is True


# ---------------------------------------------------------------------- ISPICKVAL


def _check_ispickval(call: CheckCall) -> FormulaType:
    t = call.type(0)
    if t.kind is not Kind.PICKLIST:
        raise wrong_type(call.what, [PICKLIST_ARG.label], t, call.args[0].node)
    call.require_literal(1)
    return CHECKBOX


def _compile_ispickval(call: CompileCall) -> Evaluator:
    literal = call.codes[1].value
    assert isinstance(literal, str)
    key = call.codes[0].record_key
    if literal == "":
        if key is not None:
            return lambda ctx: not ctx.record.get(key)
        a = call.fns[0]
        return lambda ctx: not a(ctx)
    if key is not None:
        return lambda ctx: ctx.record.get(key) == literal
    a = call.fns[0]
    return lambda ctx: a(ctx) == literal


_ONE_ARG_PICKLISTS = frozenset({0})

FUNCTIONS: tuple[FunctionSpec, ...] = (
    FunctionSpec("AND", 1, None, _check_booleans, _compile_and),
    FunctionSpec("OR", 1, None, _check_booleans, _compile_or),
    FunctionSpec("NOT", 1, 1, _check_booleans, _compile_not),
    FunctionSpec("IF", 3, 3, _check_if, _compile_if),
    FunctionSpec("CASE", 0, None, _check_case, _compile_case, picklist_args=_ONE_ARG_PICKLISTS),
    FunctionSpec(
        "ISBLANK",
        1,
        1,
        _check_isblank,
        _compile_isblank,
        picklist_args=_ONE_ARG_PICKLISTS,
        multipicklist_args=_ONE_ARG_PICKLISTS,
    ),
    FunctionSpec(
        "ISNULL",
        1,
        1,
        _check_isblank,
        _compile_isnull,
        picklist_args=_ONE_ARG_PICKLISTS,
        multipicklist_args=_ONE_ARG_PICKLISTS,
    ),
    FunctionSpec("BLANKVALUE", 2, 2, _check_blankvalue, _compile_blankvalue),
    FunctionSpec("NULLVALUE", 2, 2, _check_blankvalue, _compile_nullvalue),
    FunctionSpec("ISNUMBER", 1, 1, _check_isnumber, _compile_isnumber),
    FunctionSpec(
        "ISCHANGED",
        1,
        1,
        _check_ischanged,
        _compile_ischanged,
        picklist_args=_ONE_ARG_PICKLISTS,
        multipicklist_args=_ONE_ARG_PICKLISTS,
        pure=False,
    ),
    FunctionSpec(
        "PRIORVALUE",
        1,
        1,
        _check_priorvalue,
        _compile_priorvalue,
        picklist_args=_ONE_ARG_PICKLISTS,
        multipicklist_args=_ONE_ARG_PICKLISTS,
        pure=False,
    ),
    FunctionSpec("ISNEW", 0, 0, _check_nothing, _compile_isnew, pure=False),
    FunctionSpec("ISCLONE", 0, 0, _check_nothing, _compile_isclone, pure=False),
    FunctionSpec(
        "ISPICKVAL", 2, 2, _check_ispickval, _compile_ispickval, picklist_args=_ONE_ARG_PICKLISTS
    ),
)

__all__ = ["FUNCTIONS", "blank_test", "compile_not", "own_field"]
