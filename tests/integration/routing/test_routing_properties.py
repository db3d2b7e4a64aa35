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
agent; external routing, with and without ShouldSkipCapacityCheck.
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
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
    memory_view,
    memory_violations,
    read_facts,
    view_diff,
    violations,
)
from workroute.kernel.clock import ManualClock
from workroute.kernel.errors import WorkrouteError
from workroute.org import Org
from workroute.routing import console
from workroute.routing.transfer import Target, transfer

T0 = datetime(2024, 3, 15, 9, 30, tzinfo=UTC)
ADMIN = "admin@example.com"

agent_names = st.sampled_from(AGENTS)
picks = st.integers(min_value=0, max_value=7)
needs = st.lists(
    st.tuples(
        st.sampled_from(SKILLS),
        st.integers(min_value=1, max_value=6),  # level
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


def _url(path: Path) -> str:
    return f"sqlite+pysqlite:///{path}"


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
        # A second engine on the same file, never routing, rebuilt from the database
        # at every check to compare with the first one's memory.
        self.shadow_clock = ManualClock(T0)
        self.shadow = Org.open(database_url=_url(db), clock=self.shadow_clock)
        self.shadow.dispatcher.stop()
        self.shadow.omni.paused = True
        self.admin = self.floor.admin
        #: Work items that entered routing -> whether they may have been withdrawn.
        self.tracked: dict[str, bool] = {}
        self.n = 0

    def teardown(self) -> None:
        self.shadow.close()
        self.org.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- helpers ---------------------------------------------------------------------

    def uid(self, name: str) -> str:
        return self.floor.agents[name]

    def online(self, name: str) -> bool:
        return self.uid(name) in self.engine.pool.agents

    def works_of(self, name: str, *statuses: str) -> list[dict[str, Any]]:
        rows = self.org.store.find("AgentWork", UserId=self.uid(name))
        return sorted(
            (w for w in rows if w["Status"] in statuses), key=lambda w: (w["CreatedDate"], w["Id"])
        )

    def new_case(self, owner: str) -> str:
        self.n += 1
        case = self.org.store.insert(
            "Case",
            [{"Subject": f"Case {self.n}", "OwnerId": owner}],
            user_id=self.admin,
            from_api=True,
        )[0]
        self.tracked[case] = False
        return case

    def refused(self, call: Any) -> bool:
        """Run ``call``; True if the engine refused it (and then nothing changed)."""
        before = read_facts(self.org)
        try:
            call()
        except WorkrouteError:
            after = read_facts(self.org)
            assert (after.works, after.psrs, after.online) == (
                before.works,
                before.psrs,
                before.online,
            )
            return True
        return False

    # -- presence --------------------------------------------------------------------

    @initialize(name=agent_names)
    def first_login(self, name: str) -> None:
        console.login(self.engine, self.uid(name), self.floor.available)

    @rule(name=agent_names, with_channel=st.booleans())
    def login_or_change_status(self, name: str, with_channel: bool) -> None:
        status = self.floor.available if with_channel else self.floor.busy
        console.login(self.engine, self.uid(name), status)

    @rule(name=agent_names)
    def logout(self, name: str) -> None:
        if self.online(name):
            console.logout(self.engine, self.uid(name))

    # -- work arriving ----------------------------------------------------------------

    @rule(queue=st.sampled_from(["q1", "q1", "q2", "ext"]))
    def case_to_queue(self, queue: str) -> None:
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

    @rule(name=agent_names, pick=picks)
    def accept(self, name: str, pick: int) -> None:
        works = self.works_of(name, "Assigned")
        if works:
            console.accept(self.engine, self.uid(name), str(works[pick % len(works)]["Id"]))

    @rule(name=agent_names, pick=picks)
    def decline(self, name: str, pick: int) -> None:
        works = self.works_of(name, "Assigned")
        if works:
            console.decline(self.engine, self.uid(name), str(works[pick % len(works)]["Id"]))

    @rule(name=agent_names, pick=picks)
    def close(self, name: str, pick: int) -> None:
        works = self.works_of(name, "Opened")
        if works:
            console.close(self.engine, self.uid(name), str(works[pick % len(works)]["Id"]))

    @rule(seconds=st.sampled_from([1, 5, 16, 21, 31, 45]))
    def advance(self, seconds: int) -> None:
        """Push timeouts (20 s, 30 s) and skill drops (15 s, 40 s) fall due and run."""
        self.clock.advance(seconds)

    # -- records moving -------------------------------------------------------------------

    @rule(pick=picks, to=st.sampled_from(["q1", "q2", "ext", "holding", "user"]))
    def give_record(self, pick: int, to: str) -> None:
        if not self.tracked:
            return
        cases = sorted(self.tracked)
        case = cases[pick % len(cases)]
        owner = {"holding": self.floor.holding, "user": self.admin}.get(to) or self.floor.queues[to]
        queue_request = [
            p
            for p in self.org.store.find("PendingServiceRouting", WorkItemId=case)
            if p.get("GroupId")
        ]
        record = self.org.store.get_many("Case", [case], ["OwnerId"])[0]
        if record["OwnerId"] == owner:
            return
        self.org.store.update(
            "Case", [{"Id": case, "OwnerId": owner}], user_id=self.admin, from_api=True
        )
        if to in ("holding", "user"):
            self.tracked[case] = True
            if queue_request:  # seed 003: leaving the queue withdraws the request
                assert self.org.store.find("PendingServiceRouting", WorkItemId=case) == []
                assert not [
                    w
                    for w in self.org.store.find("AgentWork", WorkItemId=case)
                    if w["Status"] == "Assigned" and w["PendingServiceRoutingId"]
                ]
        else:
            self.tracked[case] = False

    # -- transfers ---------------------------------------------------------------------------

    @rule(name=agent_names, pick=picks, to=st.sampled_from(["q1", "q2", "ext"]))
    def transfer_to_queue(self, name: str, pick: int, to: str) -> None:
        works = self.works_of(name, *ACTIVE)
        if works:
            work = works[pick % len(works)]
            transfer(
                self.engine, self.uid(name), work["Id"], Target(queue_id=self.floor.queues[to])
            )
            self.tracked[str(work["WorkItemId"])] = False

    @rule(name=agent_names, pick=picks, skills=st.sets(st.sampled_from(SKILLS), min_size=1))
    def transfer_to_skills(self, name: str, pick: int, skills: set[str]) -> None:
        works = self.works_of(name, *ACTIVE)
        if works:
            work = works[pick % len(works)]
            ids = tuple(self.floor.skills[s] for s in sorted(skills))
            transfer(self.engine, self.uid(name), work["Id"], Target(skill_ids=ids))

    @rule(name=agent_names, pick=picks, to=agent_names)
    def transfer_to_agent(self, name: str, pick: int, to: str) -> None:
        works = self.works_of(name, *ACTIVE)
        if not works:
            return
        work = works[pick % len(works)]
        facts = read_facts(self.org)
        target = self.uid(to)
        held = [w for w in facts.active if w["WorkItemId"] == work["WorkItemId"]]
        theirs = [w for w in facts.active if w["UserId"] == target]
        weight = float(work.get("CapacityWeight") or 0)
        percent = float(work.get("CapacityPercentage") or 0)
        used = sum(
            facts.units(target, w.get("CapacityWeight"), w.get("CapacityPercentage"))
            for w in theirs
        )
        status = facts.online.get(target)
        possible = (
            work["Status"] == "Opened"
            and to != name
            and status is not None
            and self.floor.channel in facts.status_channels.get(status, set())
            and used + facts.units(target, weight or (0 if percent else 1), percent)
            <= facts.capacity[target] + 1e-9
            and len(held) == 1
        )
        refused = self.refused(
            lambda: transfer(self.engine, self.uid(name), work["Id"], Target(user_id=target))
        )
        assert refused != possible, f"transfer to {to}: possible={possible}, refused={refused}"

    # -- external routing -------------------------------------------------------------------

    @rule(pick=picks, name=agent_names, skip=st.booleans())
    def external_route(self, pick: int, name: str, skip: bool) -> None:
        facts = read_facts(self.org)
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
        psr = waiting[pick % len(waiting)]
        user = self.uid(name)
        theirs = [w for w in facts.active if w["UserId"] == user]
        used = sum(
            facts.units(user, w.get("CapacityWeight"), w.get("CapacityPercentage")) for w in theirs
        )
        status = facts.online.get(user)
        room = used + facts.units(user, psr.get("CapacityWeight"), psr.get("CapacityPercentage"))
        possible = (
            status is not None
            and self.floor.channel in facts.status_channels.get(status, set())
            and (skip or (room <= facts.capacity[user] + 1e-9 and len(theirs) < 100))
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

    # -- after every step -------------------------------------------------------------------

    @invariant()
    def routing_state_is_sound(self) -> None:
        problems = violations(self.org, self.tracked)
        assert not problems, problems

    @invariant()
    def memory_agrees_with_the_database(self) -> None:
        self.engine.refresh()  # after a refused operation memory is rebuilt before use
        problems = memory_violations(self.org, self.engine)
        assert not problems, problems
        self.shadow_clock.set(self.clock.now())
        self.shadow.omni._mark_broken()
        self.shadow.omni.refresh()
        diff = view_diff(memory_view(self.shadow.omni), memory_view(self.engine))
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
            max_examples=30,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
