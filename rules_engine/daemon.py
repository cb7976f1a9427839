"""``rules-engine run``: the daemon. Builds the engine from the config, schedules it, serves the
admin HTTP endpoints, reloads rules on file change or SIGHUP, and stops cleanly on SIGTERM/SIGINT
(the running cycle finishes; nothing half-done is left, and what is in flight is reconciled at
the next start)."""

from __future__ import annotations

import asyncio
import errno
import gc
import logging
import os
import signal
import socket
from pathlib import Path
from typing import Any, Callable

import uvicorn

from .admin import check_admin_binding, create_admin_app
from .clock import SystemClock
from .conductor import ConductorClient
from .config import EngineConfig, admin_token
from .engine import Engine
from .errors import ConfigError
from .hookspecs import PROJECT
from .ledger.store import Ledger
from .pipeline.dispatch import DispatchPolicy
from .rules.loader import RuleSet, load_rules
from .scheduler import EngineScheduler
from .toolkit import Toolkit

__all__ = ["Daemon"]

log = logging.getLogger("rules_engine.daemon")



def _freeze_long_lived() -> None:
    """Keep what lives as long as the process (plugins, rules, compiled conditions) out of every
    later garbage collection's scan. Called again after a reload: unfreezing first lets the
    previous rule set be collected."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


def _listen(host: str, port: int, resolve: Callable[..., list[Any]] = socket.getaddrinfo) -> list[socket.socket]:
    """The admin HTTP sockets, bound here so that a port in use is a clear error before anything
    runs (uvicorn would log it and exit the process from inside its task). Every address ``host``
    resolves to is bound, IPv4 first ("localhost" is often ::1 and 127.0.0.1, and the container's
    health check asks 127.0.0.1); an address the machine does not have is skipped, as asyncio
    does. Port 0 binds the first address only, on a free port."""
    def refuse(reason: str, in_use: bool = False) -> ConfigError:
        fix = ("If another process holds the port (a daemon still running?), stop it, or set admin.port in the config "
               "to a free port (0: any free port)") if in_use else "Check admin.host in the config"
        return ConfigError(f"admin HTTP cannot listen on {host}:{port}: {reason}. {fix}")

    try:
        found = resolve(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except OSError as exc:
        raise refuse(f"cannot resolve {host!r} ({exc.strerror or exc})") from exc
    addresses = sorted(dict.fromkeys((family, address[:2]) for family, _type, _proto, _name, address in found),
                       key=lambda entry: entry[0] != socket.AF_INET)
    bound: list[socket.socket] = []
    try:
        for family, address in addresses[:1] if port == 0 else addresses:
            try:
                bound.append(socket.create_server(address, family=family))
            except OSError as exc:
                if exc.errno in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT) and len(addresses) > 1:
                    continue
                raise refuse(os.strerror(exc.errno) if exc.errno else str(exc), in_use=exc.errno == errno.EADDRINUSE) from exc
    except ConfigError:
        for sock in bound:
            sock.close()
        raise
    if not bound:
        raise refuse("none of its addresses can be bound on this machine")
    return bound


def _no_rules(ruleset: RuleSet, paths: list[Path]) -> str:
    if ruleset.errors:
        return f"no rule loaded: {len(ruleset.errors)} error(s); run 'rules-engine validate' for details"
    return (f"no rule loaded: there is no rule in {', '.join(map(str, paths))}. The engine needs at least one "
            "(a rule with 'enabled: false' is kept without running); 'rules-engine init' writes an example")


class Daemon:
    def __init__(self, config: EngineConfig, *, environ: dict[str, str] | None = None, watch: bool = True) -> None:
        self.config = config
        self.environ = environ
        self.watch = watch
        self.stop_requested = asyncio.Event()
        self.reload_requested = asyncio.Event()
        self.admin_port: int | None = None

    def _rule_paths(self) -> list[Path]:
        if not self.config.rules:
            raise ConfigError("the config lists no rule files or directories under 'rules:'")
        return list(self.config.rules)

    def _check_runnable(self) -> None:
        """What every other command can do without, and a daemon cannot."""
        if not self.config.app_tokens:
            raise ConfigError("the config lists no AppToken under 'app_tokens:', so the daemon would poll nothing; "
                              "add one, e.g. 'app_tokens: {plant: {token: <the AppToken hash>}}'")
        if not self.config.conductor.username.strip():
            raise ConfigError("the config has no 'conductor.username': the daemon logs in to Conductor as that user "
                              "(the password comes from 'conductor.password_env' or 'conductor.password_file')")

    async def run(self) -> None:
        config = self.config
        self._check_runnable()
        token = admin_token(config.admin, self.environ) if config.admin.enabled else None
        if config.admin.enabled:
            check_admin_binding(config.admin.host, token)
        password = config.conductor.password(self.environ)
        toolkit = Toolkit.create(config)
        ruleset = load_rules(self._rule_paths(), toolkit)
        for problem in ruleset.problems:
            (log.error if problem.severity == "error" else log.warning)("rule problem", extra={"problem": str(problem)})
        if not ruleset.rules:
            raise ConfigError(_no_rules(ruleset, self._rule_paths()))
        ledger = Ledger.open_writer(config.ledger.path, synchronous=config.ledger.synchronous.upper())
        clock = SystemClock()
        conductor = ConductorClient(
            config.conductor.username, password.get_secret_value(), urls=config.conductor.urls(),
            account_name=config.conductor.account_name, timeout=config.conductor.timeout.total_seconds(), clock=clock,
        )
        policy = DispatchPolicy(max_attempts=config.dispatch.max_attempts, concurrency=config.dispatch.concurrency,
                                reconcile_after=config.dispatch.reconcile_after.total_seconds())
        engine = Engine(config, toolkit, ruleset, ledger, conductor, clock=clock, dispatch_policy=policy)
        if ruleset.errors:
            engine.reject_rules([str(p) for p in ruleset.errors])
        scheduler = EngineScheduler(engine)
        tasks: list[asyncio.Task[Any]] = []
        admin_server = None
        try:
            toolkit.registries.manager.hook.startup(engine=engine)  # type: ignore[union-attr]
            await engine.dispatcher.reconcile()
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(signum, self.stop_requested.set)
            loop.add_signal_handler(signal.SIGHUP, self.reload_requested.set)
            if config.admin.enabled:
                admin_sockets = _listen(config.admin.host, config.admin.port)
                admin_server = uvicorn.Server(uvicorn.Config(
                    create_admin_app(engine.health, engine.metrics.render, token, engine.status_page), host=config.admin.host,
                    port=config.admin.port, log_config=None, access_log=False, lifespan="off",
                ))
                tasks.append(asyncio.create_task(admin_server.serve(sockets=admin_sockets), name="admin"))
                while not admin_server.started and not tasks[-1].done():
                    await asyncio.sleep(0.01)
                if tasks[-1].done():
                    tasks[-1].result()
                self.admin_port = admin_server.servers[0].sockets[0].getsockname()[1] if admin_server.servers else None
            _freeze_long_lived()
            scheduler.start()
            tasks.append(asyncio.create_task(self._reloader(engine, toolkit, scheduler), name="reload"))
            if self.watch:
                tasks.append(asyncio.create_task(self._watcher(), name="watch"))
            log.info("rules-engine running", extra={
                "app_tokens": list(config.app_tokens), "rules": len(ruleset.rules), "ledger": str(config.ledger.path),
                "admin": f"http://{config.admin.host}:{self.admin_port}" if admin_server else "off", "project": PROJECT,
            })
            await self.stop_requested.wait()
            log.info("stopping: finishing the current cycle")
        finally:
            await scheduler.stop()
            if admin_server is not None:
                admin_server.should_exit = True
            for task in tasks:
                if task.get_name() != "admin":
                    task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await conductor.aclose()
            await engine.aclose()
            ledger.close()
            log.info("stopped")

    async def _reloader(self, engine: Engine, toolkit: Toolkit, scheduler: EngineScheduler) -> None:
        while True:
            await self.reload_requested.wait()
            self.reload_requested.clear()
            ruleset = load_rules(self._rule_paths(), toolkit)
            if ruleset.errors or not ruleset.rules:
                problems = [str(p) for p in ruleset.errors] or [_no_rules(ruleset, self._rule_paths())]
                engine.reject_rules(problems)
                for problem in problems:
                    log.error("rule reload rejected; the previous rules keep running", extra={"problem": problem})
                continue
            engine.accept_rules(ruleset)
            _freeze_long_lived()
            log.info("rules reloaded", extra={"rules": len(ruleset.rules), "files": len(ruleset.files)})

    async def _watcher(self) -> None:
        from watchfiles import awatch

        paths = [p for p in self._rule_paths() if p.exists()]
        if not paths:
            return
        async for _changes in awatch(*paths, debounce=500, step=100):
            self.reload_requested.set()
