"""``SimulatorServer``: uvicorn serving a simulator on loopback from a background thread."""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType

import uvicorn

from rules_engine.clock import Clock
from rules_engine.simulator.app import create_app
from rules_engine.simulator.config import FleetConfig
from rules_engine.simulator.faults import Faults
from rules_engine.simulator.simulator import Simulator

__all__ = ["SimulatorServer"]


class SimulatorServer:
    """Serve a :class:`Simulator` over real HTTP; a context manager.

    ``SimulatorServer()`` builds a default fleet on the system clock; pass ``simulator=`` (or
    ``config=`` / ``clock=`` / ``faults=``) to control it. ``port=0`` picks a free port.
    """

    def __init__(
        self,
        simulator: Simulator | None = None,
        *,
        config: FleetConfig | None = None,
        clock: Clock | None = None,
        faults: Faults | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        if simulator is None:
            simulator = Simulator(config, clock=clock, faults=faults)
        elif config is not None or clock is not None or faults is not None:
            raise ValueError("give either simulator= or config/clock/faults, not both")
        self.simulator = simulator
        self.host = host
        self.port = port
        self.app = create_app(simulator)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def auth(self) -> tuple[str, str]:
        return self.simulator.username, self.simulator.password

    def start(self, timeout: float = 5.0) -> SimulatorServer:
        if self._thread is not None:
            raise RuntimeError("already started")
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY on accepted sockets only when the
        # listening socket says TCP; without it every response pays a ~40 ms delayed-ACK stall.
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        sock.listen(128)
        self.port = sock.getsockname()[1]
        self._socket = sock
        config = uvicorn.Config(
            self.app,
            log_config=None,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name=f"simulator-{self.port}", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the simulator server did not start")
            time.sleep(0.002)
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self.app.state.stopping.set()
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
