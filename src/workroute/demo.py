"""The demo org ``make serve`` starts with: agents, a supervisor, queues, a channel,
presence statuses, skills and a few customers with cases.

Everyone who signs in can use the console at once: the agents' and the supervisor's
profiles and the administrator (through a permission set assigned to them) are granted
the presence statuses, and the supervisor's configuration names the agents' public
group and the supervisor actions the engine performs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from workroute.auth.principal import Permission
from workroute.org import NewUser, Org, _profile_row
from workroute.routing.supervisor import SupervisorAction

DEMO_DOMAIN = "demo.workroute"
DEMO_AGENT_PASSWORD = "Demo-agent-1"


def create_demo(org: Org, *, admin_id: str) -> None:
    """Fill a fresh org with demo data, in one transaction."""
    s = org.store

    def ins(obj: str, rows: Sequence[Mapping[str, object]]) -> list[str]:
        return s.insert(obj, rows, user_id=admin_id)

    with org.db.write():
        profiles = ins(
            "Profile",
            [
                _profile_row(
                    "Service Agent", frozenset({Permission.API_ENABLED, Permission.RUN_FLOWS})
                ),
                _profile_row(
                    "Service Supervisor",
                    frozenset(
                        {Permission.API_ENABLED, Permission.RUN_FLOWS, Permission.OMNI_SUPERVISOR}
                    ),
                ),
            ],
        )
        agents = [
            org.add_user(
                NewUser(
                    username=f"agent{i}@{DEMO_DOMAIN}",
                    first_name=first,
                    last_name=last,
                    email=f"agent{i}@{DEMO_DOMAIN}",
                    profile="Service Agent",
                ),
                password=DEMO_AGENT_PASSWORD,
                acting_user_id=admin_id,
            )
            for i, (first, last) in enumerate(
                [
                    ("Ada", "Lovelace"),
                    ("Alan", "Turing"),
                    ("Grace", "Hopper"),
                    ("Edsger", "Dijkstra"),
                ],
                start=1,
            )
        ]
        supervisor = org.add_user(
            NewUser(
                username=f"supervisor@{DEMO_DOMAIN}",
                first_name="Barbara",
                last_name="Liskov",
                email=f"supervisor@{DEMO_DOMAIN}",
                profile="Service Supervisor",
            ),
            password=DEMO_AGENT_PASSWORD,
            acting_user_id=admin_id,
        )
        [channel] = ins(
            "ServiceChannel",
            [
                {
                    "DeveloperName": "Cases",
                    "MasterLabel": "Cases",
                    "RelatedEntity": "Case",
                    "CapacityModel": "TabBased",
                }
            ],
        )
        available, busy = ins(
            "ServicePresenceStatus",
            [
                {"DeveloperName": "Available_Cases", "MasterLabel": "Available - Cases"},
                {"DeveloperName": "Busy", "MasterLabel": "Busy"},
            ],
        )
        # Service Presence Statuses Access, as Salesforce keeps it: on the permission
        # set each profile owns (routing/setup.py).
        owned = ins(
            "PermissionSet",
            [
                {
                    "Name": f"X{name.replace(' ', '_')}",
                    "Label": f"{name} (profile)",
                    "IsOwnedByProfile": True,
                    "ProfileId": pid,
                }
                for name, pid in zip(("Service Agent", "Service Supervisor"), profiles, strict=True)
            ],
        )
        # The administrator's profile is the org's System Administrator: grant them the
        # statuses through a permission set of their own, as Salesforce admins do.
        [omni_access] = ins(
            "PermissionSet",
            [{"Name": "Omni_Channel_Presence", "Label": "Omni-Channel Presence"}],
        )
        ins("PermissionSetAssignment", [{"AssigneeId": admin_id, "PermissionSetId": omni_access}])
        ins(
            "SetupEntityAccess",
            [
                {
                    "ParentId": ps,
                    "SetupEntityId": status,
                    "SetupEntityType": "ServicePresenceStatus",
                }
                for ps in (*owned, omni_access)
                for status in (available, busy)
            ],
        )
        ins(
            "ServiceChannelStatus",
            [
                {"ServiceChannelId": channel, "ServicePresenceStatusId": available},
            ],
        )
        [config] = ins(
            "PresenceUserConfig",
            [
                {
                    "DeveloperName": "Agents",
                    "MasterLabel": "Agents",
                    "Capacity": 6,
                    "OptionsIsDeclineEnabled": True,
                    "OptionsIsDeclineReasonEnabled": True,
                    "OptionsIsRequestSoundEnabled": True,
                }
            ],
        )
        ins(
            "PresenceUserConfigUser",
            [{"PresenceUserConfigId": config, "UserId": a} for a in agents],
        )
        reasons = ins(
            "PresenceDeclineReason",
            [
                {"DeveloperName": "Busy_With_Customer", "MasterLabel": "Busy with a customer"},
                {"DeveloperName": "Wrong_Skill", "MasterLabel": "Not my area"},
            ],
        )
        ins(
            "PresenceConfigDeclineReason",
            [{"PresenceUserConfigId": config, "PresenceDeclineReasonId": r} for r in reasons],
        )
        routing = ins(
            "QueueRoutingConfig",
            [
                {
                    "DeveloperName": "Support_Routing",
                    "MasterLabel": "Support Routing",
                    "RoutingModel": "MostAvailable",
                    "RoutingPriority": 1,
                    "CapacityWeight": 2,
                    "PushTimeout": 60,
                    "ServiceChannelId": channel,
                },
                {
                    "DeveloperName": "Billing_Routing",
                    "MasterLabel": "Billing Routing",
                    "RoutingModel": "LeastActive",
                    "RoutingPriority": 2,
                    "CapacityWeight": 1,
                    "PushTimeout": 30,
                    "ServiceChannelId": channel,
                },
            ],
        )
        queues = ins(
            "Group",
            [
                {
                    "Name": "Support",
                    "DeveloperName": "Support",
                    "Type": "Queue",
                    "QueueRoutingConfigId": routing[0],
                },
                {
                    "Name": "Billing",
                    "DeveloperName": "Billing",
                    "Type": "Queue",
                    "QueueRoutingConfigId": routing[1],
                },
            ],
        )
        ins("QueueSobject", [{"QueueId": q, "SobjectType": "Case"} for q in queues])
        [team] = ins(
            "Group",
            [{"Name": "Support Team", "DeveloperName": "Support_Team", "Type": "Regular"}],
        )
        ins(
            "GroupMember",
            [{"GroupId": queues[0], "UserOrGroupId": a} for a in agents[:3]]
            + [{"GroupId": queues[1], "UserOrGroupId": a} for a in agents[2:]]
            + [{"GroupId": team, "UserOrGroupId": a} for a in agents],
        )
        skills = ins(
            "Skill",
            [{"DeveloperName": d, "MasterLabel": d} for d in ("English", "French", "Billing")],
        )
        resources = ins(
            "ServiceResource",
            [
                {"Name": f"Agent {i}", "RelatedRecordId": a, "ResourceType": "A", "IsActive": True}
                for i, a in enumerate(agents, start=1)
            ],
        )
        ins(
            "ServiceResourceSkill",
            [
                {
                    "ServiceResourceId": r,
                    "SkillId": skills[k],
                    "SkillLevel": level,
                    "EffectiveStartDate": date(2020, 1, 1),
                }
                for r, k, level in [
                    (resources[0], 0, 8),
                    (resources[0], 2, 5),
                    (resources[1], 0, 6),
                    (resources[1], 1, 9),
                    (resources[2], 1, 4),
                    (resources[3], 2, 7),
                ]
            ],
        )
        [sup_config] = ins(
            "OmniSupervisorConfig",
            [
                {"DeveloperName": "Support_Supervisors", "MasterLabel": "Support Supervisors"},
            ],
        )
        ins(
            "OmniSupervisorConfigUser",
            [
                {"OmniSupervisorConfigId": sup_config, "UserId": supervisor},
            ],
        )
        ins(
            "OmniSupervisorConfigQueue",
            [{"OmniSupervisorConfigId": sup_config, "QueueId": q} for q in queues],
        )
        # seed 003, OmniSupervisorConfigGroup: a configuration's agents are the members
        # of the public groups it names; without one the supervisor sees no agents.
        ins("OmniSupervisorConfigGroup", [{"OmniSupervisorConfigId": sup_config, "GroupId": team}])
        ins(
            "OmniSupervisorConfigAction",
            [
                {
                    "OmniSupervisorConfigId": sup_config,
                    "OmniSupervisorActionType": action.value,
                    "DisplayOrder": order,
                }
                for order, action in enumerate(SupervisorAction, start=1)
            ],
        )
        accounts = ins(
            "Account",
            [
                {"Name": "Acme Corporation", "Industry": "Manufacturing", "BillingCity": "Lyon"},
                {"Name": "Globex", "Industry": "Energy", "BillingCity": "Springfield"},
                {"Name": "Initech", "Industry": "Technology", "BillingCity": "Austin"},
            ],
        )
        contacts = ins(
            "Contact",
            [
                {
                    "FirstName": "Wile",
                    "LastName": "Coyote",
                    "AccountId": accounts[0],
                    "Email": f"wile@acme.{DEMO_DOMAIN}",
                },
                {
                    "FirstName": "Hank",
                    "LastName": "Scorpio",
                    "AccountId": accounts[1],
                    "Email": f"hank@globex.{DEMO_DOMAIN}",
                },
            ],
        )
        ins(
            "Case",
            [
                {
                    "Subject": "Rocket skates misfire",
                    "Priority": "High",
                    "Origin": "Web",
                    "AccountId": accounts[0],
                    "ContactId": contacts[0],
                },
                {
                    "Subject": "Invoice total is wrong",
                    "Priority": "Medium",
                    "Origin": "Email",
                    "AccountId": accounts[1],
                    "ContactId": contacts[1],
                },
                {
                    "Subject": "TPS report cover sheet",
                    "Priority": "Low",
                    "Origin": "Phone",
                    "AccountId": accounts[2],
                },
            ],
        )
