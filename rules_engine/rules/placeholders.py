"""``{placeholder}`` paths in action options, checked against the context of the rule's trigger.

A placeholder that names nothing renders as ``null`` at run time (``render_template``), so a typo
such as ``{uplink.modle}`` would go unnoticed until someone read the message. The context is the
one docs/rules.md ("The context") documents and ``pipeline/context.py`` builds; keep the three in
step (tests/rules/test_placeholders.py checks this table against contexts the engine builds).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from typing import Any

from .diagnostics import did_you_mean

__all__ = ["placeholder_problems", "var_problems", "CONTEXT"]

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.]*)\}")

#: Under these, any path may exist (state written by rules, a send's details, a signal's fields).
OPEN = None

_DEVICE = {"module", "app_token", "last_seen", "last_gateway", "uplinks", "state"}
_UPLINK = {"uuid", "time", "timestamp", "module", "gateway", "port", "payload_hex", "size", "app_token", "app_token_alias",
           "network_token", "signal", "decoder", "decode_error"}
_COMMON: dict[str, Collection[str] | None] = {"now": (), "rule": {"id"}, "state": OPEN}

#: Per trigger kind: each root of the context, and the fields under it (``OPEN``: not checked).
#: ``send`` is in an uplink's context while a tracked send is planned (``send.seq``...).
CONTEXT: dict[str, dict[str, Collection[str] | None]] = {
    "uplink": {**_COMMON, "uplink": _UPLINK, "decoded": OPEN, "device": _DEVICE, "send": OPEN},
    "silence": {**_COMMON, "device": _DEVICE | {"gateway"}, "silence": {"last_seen", "for"}, "send": OPEN},
    "schedule": {**_COMMON, "schedule": {"rule", "time"}, "send": OPEN},
    "send": {**_COMMON, "send": OPEN},
}
_OPEN_BELOW = {("uplink", "signal"), ("device", "state")}
_ALL_ROOTS = sorted({root for roots in CONTEXT.values() for root in roots})


#: The options of the built-in actions that are rendered with ``render_template`` ("*": each
#: value of a mapping). Other texts (a webhook's JSON constants, a plugin action's options) are
#: sent as written, or read by their plugin in its own way: they are not checked.
TEMPLATES: dict[str, tuple[tuple[str, ...], ...]] = {
    "log": (("message",),),
    "webhook": (("url",), ("headers", "*")),
}


def _templates(action: str, options: Any) -> Iterator[tuple[tuple[str | int, ...], str]]:
    for template in TEMPLATES.get(action, ()):
        values: list[tuple[tuple[str | int, ...], Any]] = [((), options)]
        for part in template:
            values = [(path + (key,), item) for path, value in values if isinstance(value, dict)
                      for key, item in (value.items() if part == "*" else [(part, value.get(part))])]
        yield from ((path, value) for path, value in values if isinstance(value, str))


def placeholder_problems(action: str, options: Any, trigger_kind: str, decoded_fields: Collection[str] | None
                         ) -> list[tuple[tuple[str | int, ...], str, str]]:
    """``(path inside the options, message, severity)`` for each placeholder in a template of
    a built-in ``action`` (:data:`TEMPLATES`) that names nothing in the context of a
    ``trigger_kind`` rule. A field that does not exist, or a root this trigger has no value for,
    is an error; a root that no trigger has, or a decoded field the decoder does not declare
    (``decoded_fields``), a warning."""
    found = []
    for path, text in _templates(action, options):
        for match in _PLACEHOLDER.finditer(text.replace("{{", "").replace("}}", "")):
            problem = _check(match.group(1), trigger_kind, decoded_fields)
            if problem is not None:
                found.append((path, f"{{{match.group(1)}}}: {problem[0]}; it would render as null", problem[1]))
    return found


def var_problems(paths: Collection[str], trigger_kind: str) -> list[tuple[str, str, str]]:
    """``(path, message, severity)`` for each ``var`` path of a condition that names nothing in
    the context of a ``trigger_kind`` rule (decoded fields are the condition lint's)."""
    found = []
    for dotted in paths:
        problem = _check(dotted, trigger_kind, None) if dotted else None
        if problem is not None:
            found.append((dotted, f"{{\"var\": \"{dotted}\"}}: {problem[0]}; it reads as null", problem[1]))
    return found


def _check(dotted: str, kind: str, decoded_fields: Collection[str] | None) -> tuple[str, str] | None:
    roots = CONTEXT.get(kind, CONTEXT["uplink"])
    parts = dotted.split(".")
    root = parts[0]
    if root not in roots:
        if root in _ALL_ROOTS:
            article = "an" if kind[0] in "aeiou" else "a"
            return f"{article} {kind} event has no '{root}' (it has {', '.join(sorted(roots))})", "error"
        return f"'{root}' is not in the context{did_you_mean(root, roots)}; see docs/rules.md, 'The context'", "warning"
    fields = roots[root]
    if len(parts) == 1:
        return None
    if root == "decoded":
        if decoded_fields and not _declared(".".join(parts[1:]), decoded_fields):
            return (f"the decoder declares no field '{'.'.join(parts[1:])}'"
                    f"{did_you_mean('.'.join(parts[1:]), decoded_fields)}", "warning")
        return None
    if fields is OPEN or (root, parts[1]) in _OPEN_BELOW:
        return None
    if parts[1] not in fields:
        hint = did_you_mean(parts[1], fields) or f" (it has {', '.join(sorted(fields)) or 'none: it is a number'})"
        return f"'{root}' has no field '{parts[1]}'{hint}", "error"
    return None


def _declared(path: str, fields: Collection[str]) -> bool:
    """As the condition lint reads declared fields: a field, inside one, or the parent of one."""
    return any(path == field or path.startswith(field + ".") or field.startswith(path + ".") for field in fields)
