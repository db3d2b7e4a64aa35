"""The rule index and the triggering-update shortcut change speed, never outcomes.

A save under ``tracing()`` evaluates every rule in full (what ``explain`` reports); a
plain save prunes rules through the equality index, skips triggering-update rules
whose fields did not change and evaluates prior values only when needed. Forty
generated rules log their firing into a field no rule reads; for generated records and
edits, the log after a plain save must equal the log after a traced one.
"""

from __future__ import annotations

import random
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.workflow.conftest import NS, deploy, field_update, item, rule, write_package
from workroute.org import Org

OBJECT = f"""<?xml version="1.0" encoding="UTF-8"?>
<CustomObject xmlns="{NS}">
    <label>Ticket</label><pluralLabel>Tickets</pluralLabel>
    <nameField><label>Name</label><type>Text</type></nameField>
    <deploymentStatus>Deployed</deploymentStatus><sharingModel>ReadWrite</sharingModel>
    <fields><fullName>Status__c</fullName><label>Status</label><type>Picklist</type>
        <valueSet><valueSetDefinition><sorted>false</sorted>
            <value><fullName>New</fullName><default>false</default><label>New</label></value>
            <value><fullName>Open</fullName><default>false</default><label>Open</label></value>
            <value><fullName>Done</fullName><default>false</default><label>Done</label></value>
        </valueSetDefinition></valueSet></fields>
    <fields><fullName>Kind__c</fullName><label>Kind</label><type>Text</type>
        <length>40</length></fields>
    <fields><fullName>Amount__c</fullName><label>Amount</label><type>Number</type>
        <precision>8</precision><scale>0</scale></fields>
    <fields><fullName>Flag__c</fullName><label>Flag</label><type>Checkbox</type>
        <defaultValue>false</defaultValue></fields>
    <fields><fullName>Log__c</fullName><label>Log</label><type>LongTextArea</type>
        <length>32768</length><visibleLines>3</visibleLines></fields>
</CustomObject>
"""

STATUSES = ["New", "Open", "Done"]
KINDS = ["a", "A", "b", "c,d", "e"]
TRIGGERS = ["onCreateOnly", "onCreateOrTriggeringUpdate", "onAllChanges"]
FILTERS = {
    2: ["1 AND 2", "1 OR 2", "NOT(1) AND 2"],
    3: ["(1 AND 2) OR 3", "1 AND (2 OR 3)", "1 AND NOT(2 OR 3)"],
}


def _criterion(r: random.Random) -> str:
    choice = r.randrange(6)
    if choice == 0:
        return item("Ticket__c.Status__c", "equals", ",".join(r.sample(STATUSES, r.randint(1, 2))))
    if choice == 1:
        values = r.sample(["a", "B", '"c,d"', "E", ""], r.randint(1, 2))
        return item("Ticket__c.Kind__c", r.choice(["equals", "notEqual"]), ",".join(values))
    if choice == 2:
        op = r.choice(["lessThan", "greaterThan", "equals", "greaterOrEqual"])
        return item("Ticket__c.Amount__c", op, str(r.randrange(0, 100, 10)))
    if choice == 3:
        return item("Ticket__c.Flag__c", "equals", r.choice(["True", "False"]))
    if choice == 4:
        return item("Ticket__c.Kind__c", r.choice(["contains", "startsWith"]), r.choice("abce"))
    return item("Ticket__c.Status__c", "equals", "")


def _workflow(seed: int) -> str:
    r = random.Random(seed)
    parts: list[str] = []
    for n in range(40):
        log = f"Log{n}"
        parts.append(field_update(log, "Log__c", "Formula", formula=f'Log__c &amp; "R{n};"'))
        actions: tuple[tuple[str, str], ...] = ((log, "FieldUpdate"),)
        if n % 7 == 3:  # some rules move the record, so later rounds re-evaluate
            move = f"Move{n}"
            parts.append(
                field_update(move, "Status__c", "NextValue", reevaluate=True)
                if n % 2
                else field_update(move, "Kind__c", "Literal", reevaluate=True, literalValue="a")
            )
            actions += ((move, "FieldUpdate"),)
        trigger = r.choice(TRIGGERS)
        if n % 4 == 0:
            threshold = r.randrange(0, 100, 10)
            formula = (
                f"AND(Amount__c &gt; {threshold}, OR(ISPICKVAL(Status__c, &quot;Open&quot;), "
                f"CONTAINS(Kind__c, &quot;{r.choice('abce')}&quot;)))"
            )
            parts.append(rule(f"R{n}", formula=formula, trigger=trigger, actions=actions))
            continue
        count = r.randint(1, 3)
        criteria = "".join(_criterion(r) for _ in range(count))
        if count == 3 or (count == 2 and r.random() < 0.5):
            criteria += f"<booleanFilter>{r.choice(FILTERS[count])}</booleanFilter>"
        parts.append(rule(f"R{n}", criteria=criteria, trigger=trigger, actions=actions))
    # Rules selected only by a number bound (the range index), at the generated values.
    bounded: list[tuple[str, str, str | None]] = [
        ("B0", item("Ticket__c.Amount__c", "greaterOrEqual", "40"), None),
        ("B1", item("Ticket__c.Amount__c", "lessOrEqual", "10,40"), None),
        ("B2", item("Ticket__c.Amount__c", "greaterThan", "5"), None),
        ("B3", item("Ticket__c.Amount__c", "lessThan", "10"), None),
        ("B4", "", "Amount__c &gt;= 40"),
        ("B5", "", "10 &lt; Amount__c"),
        ("B6", "", "AND(Amount__c &lt;= 40, NOT(Flag__c))"),
        ("B7", "", "Amount__c &gt; 5 &amp;&amp; Amount__c &lt; 90"),
    ]
    for name, items, bound_formula in bounded:
        log = f"Log{name}"
        parts.append(field_update(log, "Log__c", "Formula", formula=f'Log__c &amp; "{name};"'))
        parts.append(
            rule(
                name,
                criteria=items,
                formula=bound_formula,
                trigger=r.choice(TRIGGERS),
                actions=((log, "FieldUpdate"),),
            )
        )
    return "".join(parts)


values = st.fixed_dictionaries(
    {},
    optional={
        "Status__c": st.sampled_from([None, *STATUSES]),
        "Kind__c": st.sampled_from([None, *KINDS]),
        "Amount__c": st.sampled_from([None, 0, 5, 10, 40, 90]),
        "Flag__c": st.booleans(),
    },
)


def test_plain_saves_fire_what_traced_saves_fire(sqlite_org: Org, tmp_path: Path) -> None:
    org = sqlite_org
    result = deploy(
        org, write_package(tmp_path / "pkg", _workflow(7), obj="Ticket__c", object_xml=OBJECT)
    )
    assert result.success, result.problems
    admin = org.admin_user_id()

    def log(rid: str) -> str:
        return str(org.store.get_many("Ticket__c", [rid])[0].get("Log__c") or "")

    seen_fired = 0

    @settings(
        max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(first=values, edit=values)
    def check(first: dict[str, object], edit: dict[str, object]) -> None:
        nonlocal seen_fired
        plain = org.store.insert("Ticket__c", [{"Name": "p", **first}], user_id=admin)[0]
        with org.workflow.tracing():
            traced = org.store.insert("Ticket__c", [{"Name": "t", **first}], user_id=admin)[0]
        assert log(plain) == log(traced)
        org.store.update("Ticket__c", [{"Id": plain, **edit}], user_id=admin)
        with org.workflow.tracing():
            org.store.update("Ticket__c", [{"Id": traced, **edit}], user_id=admin)
        assert log(plain) == log(traced)
        seen_fired += log(plain).count(";")

    check()
    assert seen_fired > 0  # the rules did fire: the comparison was not of empty logs
