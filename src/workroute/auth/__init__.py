"""Who is calling: passwords, OAuth tokens, connected apps and permissions."""

from workroute.auth.principal import Permission, Principal

__all__ = ["Permission", "Principal"]
