"""A read-only status page for the admin server: poll health and lag per AppToken, recent
firings, and each tracked send with per-gateway and per-device acknowledgement bars.

Plain server-rendered HTML (no script, no external asset), refreshed every five seconds.
"""

from __future__ import annotations

import html
import sqlite3
from datetime import datetime, timezone
from typing import Any

from .ledger import queries

__all__ = ["render_status_page"]

_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1d2733;background:#f6f8fa}
h1{font-size:20px;margin:0 0 4px} h2{font-size:16px;margin:24px 0 8px}
table{border-collapse:collapse;background:#fff;width:100%;margin-bottom:8px}
th,td{border:1px solid #d8dee4;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#eef1f4} .ok{color:#1a7f37;font-weight:600} .bad{color:#cf222e;font-weight:600}
.bar{display:inline-block;width:160px;height:12px;background:#e6e9ed;border-radius:3px;overflow:hidden;vertical-align:middle}
.bar span{display:block;height:100%;background:#2da44e} .muted{color:#57606a} code{font-size:12px}
details{margin:4px 0 12px} summary{cursor:pointer}
"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _bar(done: int, total: int) -> str:
    share = done / total if total else 0.0
    return (f'<span class="bar" role="progressbar" aria-valuenow="{done}" aria-valuemax="{total}">'
            f'<span style="width:{share * 100:.0f}%"></span></span> {done}/{total}')


def _when(ts: float | None) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC") if ts else "never"


def render_status_page(health: dict[str, Any], conn: sqlite3.Connection, now: datetime) -> str:
    parts = [f"<!doctype html><html lang=en><head><meta charset=utf-8><title>rules-engine status</title>"
             f'<meta http-equiv="refresh" content="5"><style>{_STYLE}</style></head><body>',
             f"<h1>rules-engine</h1><p class=muted>{_e(now.strftime('%Y-%m-%d %H:%M:%S UTC'))} · status "
             f"<span class=\"{'ok' if health['status'] == 'ok' else 'bad'}\" id=overall>{_e(health['status'])}</span></p>"]
    parts.append("<h2>AppTokens</h2><table id=tokens><tr><th>alias</th><th>AppToken</th><th>health</th><th>lag</th>"
                 "<th>last successful poll</th><th>errors</th></tr>")
    for alias, token in health["app_tokens"].items():
        lag = "—" if token["lag_s"] is None else f"{token['lag_s']:.1f} s"
        state = '<span class=ok>healthy</span>' if token["healthy"] else '<span class=bad>unhealthy</span>'
        errors = f"{token['consecutive_errors']}: {_e(token['last_error'])}" if token["consecutive_errors"] else "0"
        parts.append(f"<tr data-alias=\"{_e(alias)}\"><td>{_e(alias)}</td><td><code>{_e(token['app_token'])}</code></td>"
                     f"<td>{state}</td><td>{lag}</td><td>{_when(token['last_success'])}</td><td>{errors}</td></tr>")
    parts.append("</table>")
    rules = health["rules"]
    reload_state = "ok" if rules["last_reload_ok"] else f"rejected: {_e(rules['last_reload_error'])}"
    parts.append(f"<p id=rules>{rules['loaded']} rule(s) from {rules['files']} file(s) · last reload: "
                 f"<span class=\"{'ok' if rules['last_reload_ok'] else 'bad'}\">{reload_state}</span> · outbox: "
                 + (", ".join(f"{_e(k)} {v}" for k, v in sorted(health["outbox"].items())) or "empty") + "</p>")
    parts.append("<h2>Tracked sends</h2>")
    sends = queries.list_tracked_sends(conn, 10)
    if not sends:
        parts.append("<p class=muted>No tracked send yet (add <code>ack:</code> to a multicast or unicast).</p>")
    for send in sends:
        detail = queries.tracked_send_detail(conn, send["id"])
        assert detail is not None
        parts.append(f"<details open class=send data-send=\"{send['id']}\"><summary><b>send {send['id']}</b> · {_e(send['rule_id'])} · "
                     f"{_e(send['kind'])} seq {send['seq']} · <b class=status>{_e(send['status'])}</b> · round {send['round']} · "
                     f"{_bar(send['acked'] or 0, send['expected'])}</summary>")
        parts.append("<table class=gateways><tr><th>gateway</th><th>acknowledged</th><th>unreachable</th><th>waiting</th></tr>")
        for gateway, counts in detail["gateways"].items():
            parts.append(f"<tr><td><code>{_e(gateway)}</code></td><td>{_bar(counts['acked'], counts['expected'])}</td>"
                         f"<td>{counts.get('unreachable', 0)}</td><td>{counts.get('waiting', 0)}</td></tr>")
        parts.append("</table><table class=devices><tr><th>device</th><th>gateway</th><th>state</th><th>acked at</th>"
                     "<th>downlinks</th></tr>")
        for target in detail["targets"]:
            parts.append(f"<tr><td><code>{_e(target['module'])}</code></td><td><code>{_e(target['gateway'])}</code></td>"
                         f"<td>{_e(target['status'])}</td><td>{_e(target['acked'])}</td><td>{target['attempts']}</td></tr>")
        parts.append("</table></details>")
    parts.append("<h2>Recent firings</h2><table id=firings><tr><th>time</th><th>rule</th><th>event</th><th>why</th></tr>")
    for firing in queries.list_firings(conn, 15):
        values = ", ".join(f"{k}={v}" for k, v in (firing["values"] or {}).items())
        parts.append(f"<tr><td>{_e(firing['time'])}</td><td>{_e(firing['rule_id'])}</td><td>{_e(firing['event_kind'])}</td>"
                     f"<td>{_e(firing['why'])}{' (' + _e(values) + ')' if values else ''}</td></tr>")
    parts.append("</table></body></html>")
    return "".join(parts)
