"""Streaming: PushTopic matching over the event log, and the transports that deliver
it (CometD/Bayeux long-polling with replay, Server-Sent Events)."""
