"""Every simulator choice that no public source settles, in one place.

Markers (see ``/work/shared/conductor-api.md``):

* **INVENTED**: a simulator design choice. Our own Conductor client must never depend on it.
* **COMPAT**: output added only so the official ``linklabs-conductor`` 1.6.4 client works; it is
  not a claim about the real service.
* **DEFAULT**: a default of the simulated fleet (not a claim about Conductor at all).

Change a behaviour here, never by sprinkling literals through the simulator.
"""

from __future__ import annotations

# --- DEFAULT: demo credentials and account ----------------------------------------------------
DEFAULT_USERNAME = "demo@example.com"
DEFAULT_PASSWORD = "demo-password"
DEFAULT_ACCOUNT_NAME = "Demo Account"
#: The factory-default network token, ASCII "OPEN" [TRK, D-sym]; the first generated network token.
OPEN_NETWORK_TOKEN = "4f50454e"

# --- INVENTED: uplink queries -------------------------------------------------------------------
#: Page size of ``/events`` when ``maxResults`` is absent (real default UNCONFIRMED).
DEFAULT_PAGE_SIZE = 500
#: Larger ``maxResults`` values are clamped to this (never rejected); clients follow ``nextPageId``.
MAX_PAGE_SIZE = 10_000
#: ``mostRecentEvents`` without ``maxResults``.
DEFAULT_MOST_RECENT = 10
#: A stop time later than server now + this tolerance is rejected (real: rejected, code UNCONFIRMED).
FUTURE_STOP_TOLERANCE_S = 2.0
FUTURE_STOP_STATUS = 400
#: Result order of ``/events`` and ``mostRecentEvents`` pages: newest first, as the real capture [TRK].
NEWEST_FIRST = True
#: Window bounds: both ``start`` and ``stop`` are inclusive (``start <= time <= stop``).
WINDOW_INCLUSIVE = True
#: Version tag inside the opaque ``pageId`` (base64url JSON, no padding).
PAGE_ID_VERSION = 1

# --- INVENTED: status codes ---------------------------------------------------------------------
NOT_FOUND_STATUS = 404  # unknown asset / command (404 vs 403 UNCONFIRMED)
BAD_REQUEST_STATUS = 400  # malformed times, bodies, ports, page ids
CONFLICT_STATUS = 409  # cancelling a command that is already final
CREATED_STATUS = 201  # POST /networkAsset/applicationTokens

# --- INVENTED: downlinks ------------------------------------------------------------------------
#: Ports accepted by ``issueCommand``: 0..128 (128 = Symphony file transfer); others -> 400.
MIN_PORT = 0
MAX_PORT = 128
#: Status strings. Only Pending / Success / Acknowledged are attested; the rest are INVENTED.
STATUS_PENDING = "Pending"
STATUS_SUCCESS = "Success"  # unacked command transmitted on at least one route
STATUS_ACKNOWLEDGED = "Acknowledged"  # acked command acknowledged by enough target modules
STATUS_EXPIRED = "Expired"  # TTL passed before success
STATUS_FAILED = "Failed"  # no route could be assigned (module never heard recently)
STATUS_CANCELLED = "Cancelled"  # DELETE /command/{id} while pending
#: Per-route ``downlinkEvents`` states [1.5.4 docstring]; ``Cancelled`` is INVENTED.
ROUTE_STATES = ("Issued", "Submitting", "Submitted", "Sending", "Sent", "Expired", "Cancelled")
#: Offsets of the per-route states as fractions of the downlink latency.
ROUTE_STATE_FRACTIONS = {"Submitting": 0.1, "Submitted": 0.3, "Sending": 0.6, "Sent": 1.0}
#: Time from issuance to the gateway transmitting (the ``Sent`` state).
DOWNLINK_LATENCY_S = 1.0
#: An acked unicast whose transmission was lost is retransmitted this often until its TTL.
ACK_RETRY_INTERVAL_S = 5.0
#: ``GET /module/{addr}/routes`` lists gateways that carried an uplink of the module this recently.
ROUTE_WINDOW_S = 3600.0
#: Multicasts and broadcasts cannot be acked: a body asking for acks on them is rejected (400).
REJECT_ACKED_MULTICAST = True

# --- INVENTED: ingest timing --------------------------------------------------------------------
#: Normal delay between an uplink's ``time`` and its ``t_write`` (when queries can see it), ms.
INGEST_DELAY_MS = (20, 150)
#: ``t_ingest`` precedes ``t_write`` by this much (ms).
INGEST_TO_WRITE_MS = 10
#: ``t_expire`` = event time + retention (capture: 60 days) [TRK].
RETENTION_S = 60 * 24 * 3600

# --- INVENTED: asset details --------------------------------------------------------------------
SYMPHONY_SIGNAL_TYPE = "SymphonyAvgSignalMetadata"  # @type of Symphony signal data (UNCONFIRMED)
LTEM_SIGNAL_TYPE = "LTEMAvgSignalMetadata"  # verbatim from the real capture [TRK]
LINK_TYPE = "SymphonyLoRa"  # even for LTE-M [TRK]
GATEWAY_RELEASE_VERSION = "2.1.1"  # COMPAT: gatewayConfig.gateway_release_version (1.6.4 reads it)
MODULE_FIRMWARE_VERSION = "1.5.3"  # 1.6.4 parses it as ``val[:1]``, ``val[2:3]``, ``val[4:]``

# --- COMPAT -------------------------------------------------------------------------------------
#: 1.6.4 reads the uplink port from ``value.port``; the real service sends ``value.portNumber``.
EMIT_VALUE_PORT = True
#: 1.6.4 queries ``$303$`` modules with subjectType ``lte``; served as an alias of ``node``.
LTE_SUBJECT_ALIAS = True

# --- DEFAULT: application-level ack replies (the engine's default ack convention) ----------------
ACK_PORT = 7
ACK_PREFIX = bytes([0xAC])
ACK_ECHO_BYTES = 4
