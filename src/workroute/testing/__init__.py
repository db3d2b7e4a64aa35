"""Helpers for testing automation against workroute: throwaway databases and servers."""

from workroute.testing.postgres import PostgresServer, find_postgres_bin

__all__ = ["PostgresServer", "find_postgres_bin"]
