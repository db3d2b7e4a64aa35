"""Flows the steps of an orchestration call."""
