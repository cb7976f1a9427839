"""The plugin manager factory and the registries it fills.

Plugins come from three places, in this order: the built-ins (``rules_engine.builtin.*``), the
``rules_engine`` entry-point group of installed packages, and ``*.py`` files of a plugins
directory. Nothing is registered at import time: :func:`create_plugin_manager` builds a fresh
manager, and :func:`load_registries` asks every plugin for its definitions, so two engines in
one process never share state. A name given twice stops start-up naming both plugins.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Iterable

import pluggy

from . import hookspecs
from .errors import PluginError

__all__ = ["create_plugin_manager", "load_registries", "Registries", "PluginInfo", "BUILTIN_PLUGINS"]

BUILTIN_PLUGINS = (
    "rules_engine.builtin.actions",
    "rules_engine.builtin.decoders",
    "rules_engine.builtin.field_types",
    "rules_engine.builtin.operators",
)


@dataclass(frozen=True)
class PluginInfo:
    name: str
    source: str  # "builtin", "entry point <dist>", or the file path
    provides: tuple[str, ...] = ()


@dataclass
class Registries:
    """Everything the plugins provide, by name, with the plugin that gave each name."""

    actions: dict[str, Any] = field(default_factory=dict)
    decoders: dict[str, Any] = field(default_factory=dict)
    field_types: dict[str, Any] = field(default_factory=dict)
    operators: dict[str, Any] = field(default_factory=dict)
    origin: dict[tuple[str, str], str] = field(default_factory=dict)
    plugins: list[PluginInfo] = field(default_factory=list)
    manager: pluggy.PluginManager | None = None
    field_type_registry: Any = None


def _where_in(path: Path, exc: BaseException) -> str:
    """``path:line`` of the innermost frame of ``exc`` in the plugin file itself (a syntax error
    carries its own line), or ``path``."""
    if isinstance(exc, SyntaxError) and exc.lineno and exc.filename and Path(exc.filename) == Path(path):
        return f"{path}:{exc.lineno}"
    line = None
    frame = exc.__traceback__
    while frame is not None:
        if Path(frame.tb_frame.f_code.co_filename) == Path(path):
            line = frame.tb_lineno
        frame = frame.tb_next
    return f"{path}:{line}" if line is not None else str(path)


def _load_file(path: Path) -> ModuleType:
    name = f"rules_engine_local_plugins.{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise PluginError(f"{path}: cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise PluginError(f"{_where_in(path, exc)}: the plugin failed to import: {type(exc).__name__}: {exc}") from exc
    return module


def plugins_dir_problem(directory: Path) -> str | None:
    """What is wrong with ``directory`` as a plugins directory (``None``: nothing), for an error."""
    if directory.is_dir():
        return None
    what = "is a file, not a directory" if directory.exists() else "does not exist"
    return f"{directory} {what}; point 'plugins_dir' at a directory of plugin files"


def create_plugin_manager(
    plugins_dir: str | Path | None = None,
    *,
    entry_points: bool = True,
    extra: Iterable[tuple[str, object]] = (),
) -> pluggy.PluginManager:
    """A new plugin manager with the built-ins, installed entry points and a plugins directory.

    ``extra`` registers more plugin objects as ``(name, plugin)`` pairs (tests use it).
    """
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    sources: dict[str, str] = {}
    for dotted in BUILTIN_PLUGINS:
        module = importlib.import_module(dotted)
        manager.register(module, name=dotted)
        sources[dotted] = "builtin"
    if entry_points:
        try:
            manager.load_setuptools_entrypoints(hookspecs.PROJECT)
        except Exception as exc:
            raise PluginError(f"an installed plugin (entry-point group '{hookspecs.PROJECT}') failed to load: {exc}") from exc
        for plugin, dist in manager.list_plugin_distinfo():
            sources[manager.get_name(plugin) or str(plugin)] = f"entry point of {dist.project_name} {dist.version}"
    if plugins_dir is not None:
        directory = Path(plugins_dir)
        problem = plugins_dir_problem(directory)
        if problem:
            raise PluginError(f"plugins directory {problem}")
        for path in sorted(directory.glob("*.py")):
            if path.name.startswith("_"):
                continue
            name = f"{directory.name}/{path.name}"
            manager.register(_load_file(path), name=name)
            sources[name] = str(path)
    for name, plugin in extra:
        manager.register(plugin, name=name)
        sources[name] = "registered by the caller"
    try:
        manager.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginError(f"plugin '{exc.plugin}' implements a hook that does not exist: {exc}") from exc
    manager._rules_engine_sources = sources  # type: ignore[attr-defined]
    return manager


def _collect(
    manager: pluggy.PluginManager,
    hook_name: str,
    kind: str,
    target: dict[str, Any],
    registries: Registries,
    name_of: Callable[[Any], str],
    provided: dict[str, list[str]],
    **arguments: Any,
) -> None:
    caller = getattr(manager.hook, hook_name)
    for impl in caller.get_hookimpls():  # registration order
        plugin_name = impl.plugin_name
        try:
            definitions = impl.function(*[arguments[name] for name in impl.argnames]) or []
        except Exception as exc:
            raise PluginError(f"plugin '{plugin_name}': {hook_name}() raised {type(exc).__name__}: {exc}") from exc
        for definition in definitions:
            try:
                name = name_of(definition)
            except Exception as exc:
                raise PluginError(f"plugin '{plugin_name}': {hook_name}() returned {definition!r}, which has no name") from exc
            if name in target:
                first = registries.origin[(kind, name)]
                raise PluginError(
                    f"{kind} '{name}' is registered twice: by plugin '{first}' and by plugin '{plugin_name}'; "
                    "rename one of them or remove one plugin"
                )
            target[name] = definition
            registries.origin[(kind, name)] = plugin_name
            provided.setdefault(plugin_name, []).append(f"{kind} {name}")


def load_registries(manager: pluggy.PluginManager) -> Registries:
    """Ask every plugin for its definitions; reject duplicate names naming both plugins."""
    from .codec import FieldTypeRegistry

    registries = Registries(manager=manager)
    provided: dict[str, list[str]] = {}
    name = lambda definition: definition.name  # noqa: E731
    _collect(manager, "register_actions", "action", registries.actions, registries, name, provided)
    _collect(manager, "register_field_types", "field type", registries.field_types, registries, name, provided)
    field_types = FieldTypeRegistry()
    for field_type in registries.field_types.values():
        field_types.register(field_type, plugin=registries.origin[("field type", field_type.name)])
    registries.field_type_registry = field_types
    _collect(manager, "register_decoders", "decoder", registries.decoders, registries, name, provided, field_types=field_types)
    _collect(manager, "register_operators", "operator", registries.operators, registries, name, provided)
    sources: dict[str, str] = getattr(manager, "_rules_engine_sources", {})
    for plugin in manager.get_plugins():
        name = manager.get_name(plugin) or repr(plugin)
        registries.plugins.append(PluginInfo(name, sources.get(name, "unknown"), tuple(provided.get(name, []))))
    registries.plugins.sort(key=lambda info: (info.source != "builtin", info.name))
    return registries


