"""Omni-Channel routing: presence, capacity, the router and the AgentWork lifecycle."""
