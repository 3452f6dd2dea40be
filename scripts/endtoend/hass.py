"""The `hass` process (started, stopped, killed) and Home Assistant's clock as the driver knows it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import importlib.util
import os
from pathlib import Path
import signal
import socket
import subprocess
import sys
import time

REPO = Path(__file__).resolve().parent.parent.parent


class HarnessError(Exception):
    """The harness could not go on (Home Assistant died, a wait timed out)."""


class Clock:
    """Home Assistant's clock as the driver knows it: real time, or libfaketime's faster one."""

    def __init__(self) -> None:
        """Start on real time."""
        self.speed = 1.0
        self._real0 = time.time()
        self._fake0 = self._real0

    def now(self) -> datetime:
        """Return the time on Home Assistant's clock (also while it is down: the world goes on)."""
        return datetime.fromtimestamp(self._fake0 + (time.time() - self._real0) * self.speed, UTC)

    def faketime(self, speed: float) -> str:
        """Return a FAKETIME value that continues this clock at `speed`, from now on."""
        fake = int(self._fake0 + (time.time() - self._real0) * self.speed)
        self._fake0, self._real0, self.speed = fake, time.time(), speed
        start = datetime.fromtimestamp(fake, UTC).strftime("%Y-%m-%d %H:%M:%S")
        return f"@{start} x{speed:g}"

    def real(self, span: timedelta) -> float:
        """Return how many real seconds `span` on Home Assistant's clock takes."""
        return span.total_seconds() / self.speed


class Hass:
    """The `hass` process: started, stopped, killed."""

    def __init__(self, config: Path, libfaketime: str | None, port: int, speed: float) -> None:
        """Remember where the configuration and the log go, the port and the clock's speed."""
        self.config = config
        self.libfaketime = libfaketime
        self.port = port
        self.speed = speed
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = config.parent / "hass.out"
        self.starts = 0

    def start(self, faketime: str | None) -> None:
        """Start Home Assistant, under libfaketime when `faketime` is given."""
        # SETUP_PORT: the port of a Home Assistant that keeps its HTTP settings in a store
        # (see _http_in_store); older ones ignore it and read the port from YAML.
        env = dict(os.environ, TZ="UTC", SETUP_PORT=str(self.port))
        env.pop("LD_PRELOAD", None)
        if faketime is not None:
            assert self.libfaketime is not None
            env |= {"LD_PRELOAD": self.libfaketime, "FAKETIME": faketime}
        self.starts += 1
        with self.log.open("ab") as log:
            log.write(f"\n===== e2e: start {self.starts} (FAKETIME={faketime}) =====\n".encode())
            log.flush()
            args = [str(Path(sys.executable).parent / "hass"), "-c", str(self.config)]
            if faketime is not None:
                # Its start-up time-outs stretched by the clock's speed (see the script).
                slow_start = REPO / "scripts/demo_config/hass_slow_start.py"
                args[:1] = [sys.executable, str(slow_start), str(self.speed)]
            if skip := os.environ.get("HPR_SKIP_PIP_PACKAGES"):  # see scripts/sid_chroot.bash
                args += ["--skip-pip-packages", skip]
            self.proc = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )

    @property
    def alive(self) -> bool:
        """Whether the process runs."""
        return self.proc is not None and self.proc.poll() is None

    def kill9(self) -> None:
        """Kill the process outright, as a power cut or a crash would, and reap it."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self, timeout: float = 90) -> int | None:
        """Stop Home Assistant as a service manager would; kill it if it hangs. Return its code."""
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=30)
            return None


def http_in_store() -> bool:
    """Return whether this Home Assistant keeps its HTTP settings in a store (2026.x)."""
    return importlib.util.find_spec("homeassistant.components.http.config") is not None


def free_port() -> int:
    """Return a TCP port that is free on 127.0.0.1 now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
