"""A real workroute server in a subprocess, for end-to-end tests (users' and ours)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ServerProcess:
    """``workroute serve`` on a free loopback port; ``start``/``kill``/``stop``."""

    db: Path
    cert: Path | None = None
    key: Path | None = None
    extra_args: list[str] = field(default_factory=list)
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        scheme = "https" if self.cert else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    def start(self, *, ready_timeout: float = 30.0) -> None:
        args = [
            sys.executable,
            "-m",
            "workroute",
            "serve",
            "--db",
            str(self.db),
            "--port",
            str(self.port),
            *self.extra_args,
        ]
        if self.cert and self.key:
            args += ["--tls-cert", str(self.cert), "--tls-key", str(self.key)]
        else:
            args.append("--no-tls")
        env = {
            **os.environ,
            "WORKROUTE_LOG_LEVEL": os.environ.get("WORKROUTE_LOG_LEVEL", "WARNING"),
        }
        env.pop("WORKROUTE_DATABASE_URL", None)
        self.proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self._wait_ready(ready_timeout)

    def _wait_ready(self, timeout: float) -> None:
        assert self.proc is not None
        waited = 0.0
        step = 0.05
        while waited < timeout:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=step):
                    return
            except OSError:
                pass
            try:
                # Waiting on the process doubles as the pause between attempts, and
                # notices at once if the server died during start-up.
                code = self.proc.wait(timeout=step)
            except subprocess.TimeoutExpired:
                waited += step
                continue
            _, err = self.proc.communicate()
            raise RuntimeError(f"workroute serve exited with {code}: {err.decode()[-2000:]}")
        self.stop()
        raise RuntimeError(f"workroute serve did not listen on port {self.port} in {timeout}s")

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a crash."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        self._close_pipes()

    def _close_pipes(self) -> None:
        if self.proc:
            for stream in (self.proc.stdout, self.proc.stderr):
                if stream:
                    stream.close()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        self._close_pipes()
