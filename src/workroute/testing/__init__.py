"""Helpers for testing automation against workroute: throwaway databases and servers."""

from workroute.testing.postgres import PostgresServer, find_postgres_bin
from workroute.testing.server import ServerProcess, free_port

__all__ = ["PostgresServer", "ServerProcess", "find_postgres_bin", "free_port"]
