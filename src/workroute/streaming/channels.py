"""Which channels exist and what a subscriber may receive on them.

``/topic/Name`` is the channel of the PushTopic named Name (Salesforce's names are
case-sensitive; so are ours). A subscriber receives the events of the records they can
read: the record's owner must be among the owners the object's sharing lets them see,
worked out when they subscribe (a subscription made again sees later sharing).
"""

from __future__ import annotations

from workroute.auth.access import read_filter
from workroute.auth.principal import Principal
from workroute.kernel.errors import WorkrouteError
from workroute.lang.soql.parser import parse_soql
from workroute.store.store import Store
from workroute.streaming.bayeux import ChannelAccess, ChannelError

TOPIC_PREFIX = "/topic/"


def _missing(channel: str) -> ChannelError:
    return ChannelError(
        f"400::The channel you requested to subscribe to does not exist {{{channel}}}"
    )


class Channels:
    def __init__(self, store: Store) -> None:
        self.store = store

    def resolve(self, channel: str, principal: Principal) -> ChannelAccess:
        if not channel.startswith(TOPIC_PREFIX) or len(channel) == len(TOPIC_PREFIX):
            raise _missing(channel)
        name = channel[len(TOPIC_PREFIX) :]
        found = [t for t in self.store.find("PushTopic", Name=name) if t.get("Name") == name]
        if not found:
            raise _missing(channel)
        try:
            obj = self.store.schema.get(parse_soql(str(found[0]["Query"])).from_)
        except WorkrouteError:
            raise _missing(channel) from None
        return ChannelAccess(channel=channel, owners=read_filter(self.store, principal, obj))
