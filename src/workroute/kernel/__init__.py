"""The bottom layer: ids, clock, errors. Imports nothing else from workroute."""
