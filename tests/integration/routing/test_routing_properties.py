"""Random sequences of agent and client operations against a real org (a SQLite file,
the engine in-process, a manual clock); after every step the invariants of
``omni_invariants`` hold in the database and in memory, and memory is what a rebuild
from the database gives.

Operations: log in (a status with the channel, or one without), log out; new work
given to a queue (MostAvailable by weight, LeastActive by percentage, external
routing) or requested by skills (levels, additional skills with a drop timeout,
weights or percentages, push timeouts, a preferred user, required or not); accept,
decline, close; the clock moved so push timeouts and skill drops fire; the record
given to another queue or out of routing; transfers to a queue, to skills and to an
agent (refused when the engine must refuse them); external routing, with and without
ShouldSkipCapacityCheck (refused when over capacity without it).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from tests.integration.routing.omni_floor import AGENTS, SKILLS, Floor, build_floor
from tests.integration.routing.omni_invariants import (
    ACTIVE,
    Entered,
    Facts,
    memory_view,
    memory_violations,
    read_facts,
    read_setup,
    view_diff,
    violations,
)
from workroute.kernel.clock import ManualClock
from workroute.kernel.errors import WorkrouteError
from workroute.org import Org
from workroute.routing import console
from workroute.routing.engine import OmniEngine
from workroute.routing.transfer import Target, transfer
from workroute.store.events import EventLog
from workroute.store.sql.database import Database
from workroute.store.store import Store
from workroute.store.timers import Timers

T0 = datetime(2024, 3, 15, 9, 30, tzinfo=UTC)
ADMIN = "admin@example.com"

agent_names = st.sampled_from(AGENTS)
picks = st.integers(min_value=0, max_value=7)
needs = st.lists(
    st.tuples(
        st.sampled_from(SKILLS),
        st.integers(min_value=1, max_value=5),  # level (agents hold 2 to 5)
        st.booleans(),  # additional
        st.integers(min_value=0, max_value=2),  # SkillPriority
    ),
    min_size=1,
    max_size=3,
    unique_by=lambda n: n[0],
)
units = st.one_of(
    st.tuples(st.sampled_from([1, 2, 3, 4]), st.none()),
    st.tuples(st.none(), st.sampled_from([25, 50, 100])),
)
Row = dict[str, Any]


def _url(path: Path) -> str:
    return f"sqlite+pysqlite:///{path}"


class Shadow:
    """A second engine on the same database file, with its own connections, that never
    routes: rebuilt from the rows at every check, to compare with the live memory."""

    def __init__(self, org: Org) -> None:
        self.clock = ManualClock(T0)
        self.db = Database(org.db.url)
        self.db.sync_objects(list(org.schema))
        store = Store(db=self.db, schema=org.schema, clock=self.clock)
        self.engine = OmniEngine(store, Timers(self.db), EventLog(self.db))
        self.engine.paused = True

    def rebuilt(self, at: datetime) -> OmniEngine:
        self.clock.set(at)
        self.engine._mark_broken()
        self.engine.refresh()
        return self.engine

    def close(self) -> None:
        self.db.dispose()


class RoutingMachine(RuleBasedStateMachine):
    template: Path
    floor: Floor

    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="routing-props-"))
        db = self.dir / "org.db"
        shutil.copy(self.template, db)
        self.clock = ManualClock(T0)
        self.org = Org.open(database_url=_url(db), clock=self.clock)
        self.engine = self.org.omni
        self.shadow = Shadow(self.org)
        self.setup = read_setup(self.org)  # no step changes the setup
        self.admin = self.floor.admin
        #: Work items that entered routing.
        self.tracked: dict[str, Entered] = {}
        self.n = 0

    def teardown(self) -> None:
        self.shadow.close()
        self.org.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- helpers ---------------------------------------------------------------------

    def uid(self, name: str) -> str:
        return self.floor.agents[name]

    def facts(self) -> Facts:
        return read_facts(self.org, self.setup)

    def pick_work(self, pick: int, *statuses: str) -> Row | None:
        """One of the AgentWorks in ``statuses`` (anybody's), oldest first."""
        rows = [w for w in self.org.store.find("AgentWork") if w["Status"] in statuses]
        rows.sort(key=lambda w: (w["CreatedDate"], w["Id"]))
        return rows[pick % len(rows)] if rows else None

    def new_case(self, owner: str) -> str:
        self.n += 1
        case = self.org.store.insert(
            "Case",
            [{"Subject": f"Case {self.n}", "OwnerId": owner}],
            user_id=self.admin,
            from_api=True,
        )[0]
        self.entered(case)
        return case

    def entered(self, work_item: str, *, may_withdraw: bool = False) -> None:
        self.tracked[work_item] = Entered(self.clock.now(), may_withdraw)

    def refused(self, call: Callable[[], object]) -> bool:
        """Run ``call``; True if the engine refused it (and then nothing changed)."""
        before = self.facts()
        try:
            call()
        except WorkrouteError:
            after = self.facts()
            assert (after.works, after.psrs, after.online) == (
                before.works,
                before.psrs,
                before.online,
            )
            return True
        return False

    def room(self, facts: Facts, user: str, weight: object, percent: object) -> bool:
        """Whether ``user`` is online for the channel with room for the units."""
        held = [w for w in facts.active if w["UserId"] == user]
        return (
            self.floor.channel in facts.channels(user)
            and len(held) < 100
            and facts.used(user) + facts.units(user, weight, percent) <= facts.capacity(user) + 1e-9
        )

    # -- presence --------------------------------------------------------------------

    @initialize(names=st.sets(agent_names, min_size=2))
    def first_logins(self, names: set[str]) -> None:
        for name in sorted(names):
            console.login(self.engine, self.uid(name), self.floor.available)

    @rule(name=agent_names, with_channel=st.booleans())
    def login_or_change_status(self, name: str, with_channel: bool) -> None:
        status = self.floor.available if with_channel else self.floor.busy
        console.login(self.engine, self.uid(name), status)

    @rule(name=agent_names)
    def logout(self, name: str) -> None:
        if self.uid(name) in self.engine.pool.agents:
            console.logout(self.engine, self.uid(name))

    # -- work arriving ----------------------------------------------------------------

    @rule(queues=st.lists(st.sampled_from(["q1", "q1", "q2", "ext"]), min_size=1, max_size=3))
    def cases_to_queues(self, queues: list[str]) -> None:
        for queue in queues:
            self.new_case(self.floor.queues[queue])

    @rule(
        needs=needs,
        units=units,
        priority=st.integers(min_value=1, max_value=3),
        model=st.sampled_from(["MostAvailable", "LeastActive"]),
        preferred=st.one_of(st.none(), st.tuples(agent_names, st.booleans())),
        push_timeout=st.sampled_from([0, 20]),
        drop_timeout=st.sampled_from([None, 15, 40]),
    )
    def skills_request(
        self,
        needs: list[tuple[str, int, bool, int]],
        units: tuple[int | None, int | None],
        priority: int,
        model: str,
        preferred: tuple[str, bool] | None,
        push_timeout: int,
        drop_timeout: int | None,
    ) -> None:
        store = self.org.store
        case = self.new_case(self.floor.holding)
        row: dict[str, object] = {
            "WorkItemId": case,
            "ServiceChannelId": self.floor.channel,
            "RoutingType": "SkillsBased",
            "RoutingModel": model,
            "RoutingPriority": priority,
            "CapacityWeight": units[0],
            "CapacityPercentage": units[1],
            "PushTimeout": push_timeout,
            "DropAdditionalSkillsTimeout": drop_timeout,
        }
        if preferred is not None:
            row.update(PreferredUserId=self.uid(preferred[0]), IsPreferredUserRequired=preferred[1])
        [psr] = store.insert("PendingServiceRouting", [row], user_id=self.admin, from_api=True)
        store.insert(
            "SkillRequirement",
            [
                {
                    "RelatedRecordId": psr,
                    "SkillId": self.floor.skills[skill],
                    "SkillLevel": level,
                    "IsAdditionalSkill": additional,
                    "SkillPriority": prio,
                }
                for skill, level, additional, prio in needs
            ],
            user_id=self.admin,
            from_api=True,
        )
        store.update(
            "PendingServiceRouting",
            [{"Id": psr, "IsReadyForRouting": True}],
            user_id=self.admin,
            from_api=True,
        )

    # -- the agent's work ---------------------------------------------------------------

    @rule(pick=picks)
    def accept(self, pick: int) -> None:
        work = self.pick_work(pick, "Assigned")
        if work is not None:
            console.accept(self.engine, str(work["UserId"]), str(work["Id"]))

    @rule(pick=picks)
    def decline(self, pick: int) -> None:
        work = self.pick_work(pick, "Assigned")
        if work is not None:
            console.decline(self.engine, str(work["UserId"]), str(work["Id"]))

    @rule(pick=picks)
    def close(self, pick: int) -> None:
        work = self.pick_work(pick, "Opened")
        if work is not None:
            console.close(self.engine, str(work["UserId"]), str(work["Id"]))

    @rule(seconds=st.sampled_from([5, 16, 21, 31, 45]))
    def advance(self, seconds: int) -> None:
        """Push timeouts (20 s, 30 s) and skill drops (15 s, 40 s) fall due and run."""
        before = self.facts()
        self.clock.advance(seconds)
        after = self.facts()
        timed_out = [w for w in after.works if w["Status"] == "DeclinedOnPushTimeout"]
        if len(timed_out) > sum(1 for w in before.works if w["Status"] == "DeclinedOnPushTimeout"):
            event("a push timeout fired")
        if any(n > before.dropped.get(p, 0) for p, n in after.dropped.items()):
            event("additional skills dropped")

    # -- records moving -------------------------------------------------------------------

    @rule(pick=picks, to=st.sampled_from(["q1", "q2", "ext", "holding", "user"]))
    def give_record(self, pick: int, to: str) -> None:
        if not self.tracked:
            return
        store = self.org.store
        cases = sorted(self.tracked)
        case = cases[pick % len(cases)]
        owner = {"holding": self.floor.holding, "user": self.admin}.get(to) or self.floor.queues[to]
        current = str(store.get_many("Case", [case], ["OwnerId"])[0]["OwnerId"])
        if current == owner:
            return
        requests = store.find("PendingServiceRouting", WorkItemId=case)
        queue_request = [p for p in requests if p.get("GroupId")]
        store.update("Case", [{"Id": case, "OwnerId": owner}], user_id=self.admin, from_api=True)
        if to in ("holding", "user"):
            self.entered(case, may_withdraw=True)
            if queue_request:  # leaving the queue withdraws its request and assigned work
                event("a queue's request withdrawn")
                assert store.find("PendingServiceRouting", WorkItemId=case) == []
                assert not [
                    w
                    for w in store.find("AgentWork", WorkItemId=case)
                    if w["Status"] == "Assigned" and w["PendingServiceRoutingId"]
                ]
        else:
            self.entered(case)

    # -- transfers ---------------------------------------------------------------------------

    @rule(
        pick=picks,
        to=st.one_of(
            st.tuples(st.just("queue"), st.sampled_from(["q1", "q2", "ext"])),
            st.tuples(st.just("skills"), st.sets(st.sampled_from(SKILLS), min_size=1)),
            st.tuples(st.just("agent"), agent_names),
        ),
    )
    def transfer_work(self, pick: int, to: tuple[str, Any]) -> None:
        """To a queue or skills: the work is Transferred and routed again. To an agent:
        refused unless the work is opened, the agent is online for the channel with room
        for it now, and no other transfer of it waits (routing/transfer.py)."""
        work = self.pick_work(pick, *ACTIVE)
        if work is None:
            return
        holder, kind = str(work["UserId"]), to[0]
        if kind == "queue":
            transfer(self.engine, holder, work["Id"], Target(queue_id=self.floor.queues[to[1]]))
            self.entered(str(work["WorkItemId"]))
            return
        if kind == "skills":
            skills = tuple(self.floor.skills[s] for s in sorted(to[1]))
            transfer(self.engine, holder, work["Id"], Target(skill_ids=skills))
            self.entered(str(work["WorkItemId"]))
            return
        facts = self.facts()
        target = self.uid(to[1])
        weight = float(work.get("CapacityWeight") or 0)
        percent = float(work.get("CapacityPercentage") or 0)
        possible = (
            work["Status"] == "Opened"
            and target != holder
            and self.room(facts, target, weight or (0 if percent else 1), percent)
            and len([w for w in facts.active if w["WorkItemId"] == work["WorkItemId"]]) == 1
        )
        refused = self.refused(
            lambda: transfer(self.engine, holder, work["Id"], Target(user_id=target))
        )
        assert refused != possible, f"transfer to {to[1]}: possible={possible}"
        event(f"transfer to an agent refused: {refused}")

    # -- external routing -------------------------------------------------------------------

    @rule(pick=picks, name=agent_names, skip=st.booleans())
    def external_route(self, pick: int, name: str, skip: bool) -> None:
        """The external router gives a request to an agent; without
        ShouldSkipCapacityCheck it is refused when the agent has no room."""
        facts = self.facts()
        waiting = sorted(
            (
                p
                for p in facts.psrs
                if p.get("RoutingModel") == "ExternalRouting" and not p.get("IsPushed")
            ),
            key=lambda p: str(p["Id"]),
        )
        if not waiting:
            return
        psr, user = waiting[pick % len(waiting)], self.uid(name)
        possible = self.floor.channel in facts.channels(user) and (
            skip or self.room(facts, user, psr.get("CapacityWeight"), psr.get("CapacityPercentage"))
        )
        row = {
            "UserId": user,
            "WorkItemId": psr["WorkItemId"],
            "ServiceChannelId": self.floor.channel,
            "PendingServiceRoutingId": psr["Id"],
            "ShouldSkipCapacityCheck": skip,
        }
        refused = self.refused(
            lambda: self.org.store.insert("AgentWork", [row], user_id=self.admin, from_api=True)
        )
        assert refused != possible, f"external route to {name}: possible={possible}"
        event(f"external routing refused: {refused}, capacity check skipped: {skip}")

    # -- after every step -------------------------------------------------------------------

    @invariant()
    def routing_state_is_sound(self) -> None:
        facts = self.facts()
        problems = violations(self.org, self.tracked, facts)
        assert not problems, problems
        self.engine.refresh()  # after a refused operation memory is rebuilt before use
        problems = memory_violations(facts, self.engine)
        assert not problems, problems
        rebuilt = self.shadow.rebuilt(self.clock.now())
        diff = view_diff(memory_view(rebuilt), memory_view(self.engine))
        assert not diff, diff


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Floor]:
    path = tmp_path_factory.mktemp("template") / "org.db"
    org = Org.open(database_url=_url(path), clock=ManualClock(T0))
    try:
        org.initialize(admin_username=ADMIN, admin_password="Admin-pass-1")
        floor = build_floor(org)
    finally:
        org.close()
    return path, floor


def test_routing_invariants_hold_after_every_step(template: tuple[Path, Floor]) -> None:
    RoutingMachine.template, RoutingMachine.floor = template
    run_state_machine_as_test(
        RoutingMachine,
        settings=settings(
            max_examples=25,
            stateful_step_count=40,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


def _skills_request(org: Org, floor: Floor, case: str, skill: str, **fields: object) -> str:
    """A ready skills-based request for ``case`` (weight 1, the skill at level 1)."""
    store = org.store
    [psr] = store.insert(
        "PendingServiceRouting",
        [
            {
                "WorkItemId": case,
                "ServiceChannelId": floor.channel,
                "RoutingType": "SkillsBased",
                "RoutingPriority": 1,
                "CapacityWeight": 1,
                **fields,
            }
        ],
        user_id=floor.admin,
        from_api=True,
    )
    store.insert(
        "SkillRequirement",
        [{"RelatedRecordId": psr, "SkillId": floor.skills[skill], "SkillLevel": 1}],
        user_id=floor.admin,
        from_api=True,
    )
    store.update(
        "PendingServiceRouting",
        [{"Id": psr, "IsReadyForRouting": True}],
        user_id=floor.admin,
        from_api=True,
    )
    return psr


def test_a_record_given_to_a_queue_keeps_one_request(
    template: tuple[Path, Floor], tmp_path: Path
) -> None:
    path, floor = template
    shutil.copy(path, tmp_path / "org.db")
    org = Org.open(database_url=_url(tmp_path / "org.db"), clock=ManualClock(T0))
    try:
        store = org.store
        case = store.insert(
            "Case", [{"Subject": "x", "OwnerId": floor.admin}], user_id=floor.admin, from_api=True
        )[0]
        _skills_request(org, floor, case, "s0")  # nobody online: it waits
        store.update(
            "Case",
            [{"Id": case, "OwnerId": floor.queues["q1"]}],
            user_id=floor.admin,
            from_api=True,
        )
        console.login(org.omni, floor.agents["a0"], floor.available)
        works = [w["Status"] for w in store.find("AgentWork", WorkItemId=case)]
        # Found by the property test: two requests, both routed, to the same agent.
        assert len(store.find("PendingServiceRouting", WorkItemId=case)) == 1
        assert works == ["Assigned"]
    finally:
        org.close()


def test_a_preferred_user_who_declined_is_passed_over(
    template: tuple[Path, Floor], tmp_path: Path
) -> None:
    path, floor = template
    shutil.copy(path, tmp_path / "org.db")
    org = Org.open(database_url=_url(tmp_path / "org.db"), clock=ManualClock(T0))
    try:
        a0, a1 = floor.agents["a0"], floor.agents["a1"]
        for agent in (a0, a1):
            console.login(org.omni, agent, floor.available)
        case = org.store.insert(
            "Case", [{"Subject": "x", "OwnerId": floor.holding}], user_id=floor.admin
        )[0]
        _skills_request(org, floor, case, "s0", PreferredUserId=a0)  # a0 and a1 have s0
        [first] = org.store.find("AgentWork", WorkItemId=case)
        assert first["UserId"] == a0
        console.decline(org.omni, a0, str(first["Id"]))
        works = org.store.find("AgentWork", WorkItemId=case)
        again = [str(w["UserId"]) for w in works if w["Status"] == "Assigned"]
        assert again == [a1]  # found by the property test: a0 again
    finally:
        org.close()


def test_the_checks_find_a_state_made_wrong_by_hand(
    template: tuple[Path, Floor], tmp_path: Path
) -> None:
    """Each check bites: rows and memory put wrong on purpose (the engine's own saves,
    which no hook checks) are reported, one kind at a time."""
    path, floor = template
    shutil.copy(path, tmp_path / "org.db")
    clock = ManualClock(T0)
    org = Org.open(database_url=_url(tmp_path / "org.db"), clock=clock)
    engine, store = org.omni, org.store
    a0, a1 = floor.agents["a0"], floor.agents["a1"]
    try:
        console.login(engine, a0, floor.available)
        first = store.insert(
            "Case", [{"Subject": "1", "OwnerId": floor.queues["q1"]}], user_id=floor.admin
        )[0]
        tracked = {first: Entered(clock.now())}
        assert violations(org, tracked) == []
        assert len(store.find("AgentWork", WorkItemId=first)) == 1

        def found(*words: str) -> list[str]:
            return [p for p in violations(org, tracked) if all(w in p for w in words)]

        with engine.internal():  # a0 (capacity 6) given 7 units past every check
            store.insert(
                "AgentWork",
                [
                    {
                        "UserId": a0,
                        "WorkItemId": first,
                        "ServiceChannelId": floor.channel,
                        "Status": "Opened",
                        "CapacityWeight": 5,
                    }
                ],
                user_id=floor.admin,
            )
        assert found("over capacity")
        assert found("2 active AgentWorks")
        problems = memory_violations(read_facts(org), engine)
        assert any("loads" in p for p in problems)  # memory does not know the row

        with engine.internal():
            for w in store.find("AgentWork", WorkItemId=first):
                store.update("AgentWork", [{"Id": w["Id"], "Status": "Closed"}], user_id=a0)
        assert found("IsPushed=True")  # pushed, but nobody holds it
        assert found("should have 0 push timers")  # the timer outlived the work

        engine.paused = True  # work arrives, a0 has room, nobody routes it
        second = store.insert(
            "Case", [{"Subject": "2", "OwnerId": floor.queues["q1"]}], user_id=floor.admin
        )[0]
        assert found("waits although user", a0)

        tracked[second] = Entered(clock.now())
        with engine.internal():
            store.delete(
                "PendingServiceRouting",
                [str(p["Id"]) for p in store.find("PendingServiceRouting", WorkItemId=second)],
                user_id=floor.admin,
            )
        assert found(second, "is lost")

        console.login(engine, a1, floor.available)
        live = memory_view(engine)
        engine.pool.agents[a1].idle_since = T0.replace(year=2000)  # memory drifts
        assert view_diff(live, memory_view(engine)) == [
            f"agents {a1} idle_since: rebuilt {live['agents'][a1]['idle_since']!r} != "
            f"live {T0.replace(year=2000)!r}"
        ]
    finally:
        org.close()
