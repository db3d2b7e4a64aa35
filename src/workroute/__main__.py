"""``python -m workroute``: the same as the ``workroute`` command."""

from workroute.cli.main import app

app()
