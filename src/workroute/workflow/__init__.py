"""Workflow Rules: criteria, rule evaluation in the save pipeline, actions, time triggers."""
