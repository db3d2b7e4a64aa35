"""Console events as Server-Sent Events over real HTTP: an agent's own events, a
supervisor's agents' events, and resuming with Last-Event-ID without loss or repeats."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.integration.api.api_harness import USER_PASSWORD, Api, Caller
from tests.integration.routing.omni_harness import Agent, Centre
from tests.integration.routing.test_routing_supervisor import (
    Supervisor,
    supervisor_config,
    supervisor_profile,
    team,
)
from tests.integration.streaming.cometd_harness import LiveServer, live_server

EVENTS = "/services/omni/v1/events"


@pytest.fixture
def live(api: Api) -> Iterator[LiveServer]:
    with live_server(api.org) as server:
        yield server


@pytest.fixture
def centre(api: Api, admin: Caller) -> Centre:
    return Centre(api, admin)


class Stream:
    """One EventSource-like connection: frames parsed as the SSE format says."""

    def __init__(self, live: LiveServer, token: str, last_event_id: int | None = None) -> None:
        headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        self._client = httpx.Client(base_url=live.url, timeout=20)
        self._cm = self._client.stream("GET", EVENTS, headers=headers)
        self.response = self._cm.__enter__()
        self._lines = self.response.iter_lines()

    def take(self, count: int) -> list[dict[str, Any]]:
        frames: list[dict[str, Any]] = []
        frame: dict[str, Any] = {}
        for line in self._lines:
            if line.startswith("id: "):
                frame["id"] = int(line[4:])
            elif line.startswith("event: "):
                frame["event"] = line[7:]
            elif line.startswith("data: "):
                frame["data"] = json.loads(line[6:])
            elif line == "" and "id" in frame:
                frames.append(frame)
                frame = {}
                if len(frames) == count:
                    return frames
        raise AssertionError(f"the stream ended after {frames}")

    def close(self) -> None:
        self._cm.__exit__(None, None, None)
        self._client.close()


def _setup(centre: Centre) -> tuple[Agent, Agent, str]:
    ann, bo = centre.agent("ann"), centre.agent("bo")
    centre.presence("P", [ann, bo])
    queue = centre.queue("Support", centre.config("C"), [ann, bo])
    return ann, bo, queue


def test_an_agent_streams_their_own_events_and_resumes_after_the_last_one(
    live: LiveServer, centre: Centre
) -> None:
    ann, bo, queue = _setup(centre)
    token = centre.api.token(ann.username, USER_PASSWORD)
    stream = Stream(live, token)
    assert stream.response.status_code == 200
    assert stream.response.headers["content-type"].startswith("text/event-stream")
    bo.ok("login", statusId=centre.available)  # bo's events are not ann's
    ann.ok("login", statusId=centre.available)
    case = centre.case(queue, Priority="High")
    first = stream.take(1)
    assert first[0]["event"] == "loginSuccess" and first[0]["data"]["userId"] == ann.user_id
    more = stream.take(3)
    assert [f["event"] for f in more] == ["statusChanged", "workAssigned", "workloadChanged"]
    assert more[1]["data"]["payload"]["workItemId"] == case
    stream.close()

    work = ann.works()[0]["workId"]
    ann.ok("acceptAgentWork", workId=work)  # while no stream is open
    ann.ok("closeAgentWork", workId=work)
    resumed = Stream(live, token, last_event_id=more[-1]["id"])
    got = resumed.take(3)
    resumed.close()
    assert [f["event"] for f in got] == ["workAccepted", "workClosed", "workloadChanged"]
    assert got[-1]["data"]["payload"]["newWorkload"] == 0
    assert all(f["data"]["userId"] == ann.user_id for f in got)
    ids = [f["id"] for f in first + more + got]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    # The JSON page agrees with the stream: every event of ann, in order.
    page = centre.api.with_token(token).get(EVENTS).json()["events"]
    assert [e["replayId"] for e in page] == ids


def test_a_supervisor_streams_the_events_of_the_agents_their_configuration_shows(
    live: LiveServer, centre: Centre
) -> None:
    ann, bo, _queue = _setup(centre)
    supervisor_profile(centre)
    boss = Supervisor(centre, "boss", "Omni Supervisors")
    supervisor_config(centre, "Sup", users=[boss.user_id], groups=[team(centre, "T", [ann])])
    token = boss.caller.token
    stream = Stream(live, token)
    bo.ok("login", statusId=centre.available)
    ann.ok("login", statusId=centre.available)
    [frame] = stream.take(1)
    stream.close()
    assert frame["event"] == "loginSuccess" and frame["data"]["userId"] == ann.user_id


def test_bad_stream_requests_are_refused(live: LiveServer, centre: Centre) -> None:
    ann, _bo, _queue = _setup(centre)
    token = centre.api.token(ann.username, USER_PASSWORD)
    sse = {"Accept": "text/event-stream"}
    refused = httpx.get(f"{live.url}{EVENTS}", headers=sse)
    assert refused.status_code == 401
    assert refused.json()[0]["errorCode"] == "INVALID_SESSION_ID"
    bad = httpx.get(
        f"{live.url}{EVENTS}",
        headers={**sse, "Authorization": f"Bearer {token}", "Last-Event-ID": "yesterday"},
    )
    assert bad.status_code == 400 and bad.json()[0]["fields"] == ["Last-Event-ID"]


def test_a_supervisor_hears_that_the_backlog_changed_and_nothing_more(
    live: LiveServer, centre: Centre
) -> None:
    ann, _bo, queue = _setup(centre)
    supervisor_profile(centre)
    boss = Supervisor(centre, "boss", "Omni Supervisors")
    supervisor_config(centre, "Sup", users=[boss.user_id], groups=[team(centre, "T", [ann])])
    agent_stream = Stream(live, centre.api.token(ann.username, USER_PASSWORD))
    boss_stream = Stream(live, boss.caller.token)
    centre.case(queue, Priority="High")  # no agent online: it waits in the backlog
    [frame] = boss_stream.take(1)
    boss_stream.close()
    assert frame["event"] == "backlogChanged"
    assert frame["data"]["topic"] == "omni/backlogChanged"
    assert frame["data"]["payload"] == {} and frame["data"]["userId"] is None
    # The agent's stream has no backlog signal: their next event is their own login.
    ann.ok("login", statusId=centre.available)
    [first] = agent_stream.take(1)
    agent_stream.close()
    assert first["event"] == "loginSuccess"
