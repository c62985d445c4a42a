"""A mosquitto broker on 127.0.0.1 that a test or benchmark starts, restarts and stops by PID.

Shared by the pytest fixture (tests/fixtures/mqtt.py) and ``python -m desktop.bench alarms``.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path


def mosquitto_exe() -> str | None:
    """The mosquitto binary, or None when Debian's package is not installed."""
    return shutil.which("mosquitto") or next(
        (p for p in ("/usr/sbin/mosquitto", "/usr/bin/mosquitto") if os.access(p, os.X_OK)), None)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Broker:
    """A mosquitto process the test controls. ``url`` is ``mqtt://127.0.0.1:PORT``."""

    host = "127.0.0.1"

    def __init__(self, exe: str, folder: Path, port: int | None = None):
        self.exe = exe
        self.folder = folder
        self.port = port or free_port()
        self.data = folder / "data"
        self.data.mkdir(parents=True, exist_ok=True)
        self.log_path = folder / "mosquitto.log"
        self.conf = folder / "mosquitto.conf"
        lines = [
            f"listener {self.port} 127.0.0.1",
            "allow_anonymous true",
            "persistence true",
            f"persistence_location {self.data}/",
            "persistence_file mosquitto.db",
            # The default (1000) would drop queued messages of a long-disconnected client;
            # a command center wants every alarm kept.
            "max_queued_messages 100000",
            # QoS 1 deliveries wait for the journal commit before the ack (nothing lost on a
            # crash): 20 in flight (the default) would cap a workstation at ~20 per commit.
            "max_inflight_messages 1000",
            f"log_dest file {self.log_path}",
            "log_type error",
            "log_type warning",
            "log_type notice",
        ]
        if os.geteuid() == 0:
            # As root mosquitto would switch to the 'mosquitto' user, who cannot write the
            # test's tmp folder.
            lines.append("user root")
        self.conf.write_text("\n".join(lines) + "\n")
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> "Broker":
        if self.proc is not None and self.proc.poll() is None:
            return self
        deadline = time.monotonic() + timeout
        while True:
            self.proc = subprocess.Popen([self.exe, "-c", str(self.conf)], stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            self.starts += 1
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break
                try:
                    with socket.create_connection((self.host, self.port), timeout=0.2):
                        return self
                except OSError:
                    time.sleep(0.05)
            err = b""
            if self.proc.poll() is not None:
                err = self.proc.stderr.read() if self.proc.stderr else b""
            else:
                self._kill()
            if time.monotonic() >= deadline:
                log = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
                raise RuntimeError(f"mosquitto did not start on port {self.port}: {err!r}\n{log[-2000:]}")
            time.sleep(0.2)  # e.g. the port still in TIME_WAIT after a restart: try again

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM (mosquitto saves its persistence file), then SIGKILL if it lingers."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._kill()
        if self.proc.stderr:
            self.proc.stderr.close()
        self.proc = None

    def _kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)

    def restart(self, down_s: float = 0.0) -> "Broker":
        """Stop, stay down ``down_s`` seconds, start again on the same port with the saved state."""
        self.stop()
        if down_s > 0:
            time.sleep(down_s)
        return self.start()

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

