"""Typed, frozen settings: the one place that turns ``KONTOR_*`` variables into values.

Every field has a docstring; ``kontor settings`` prints them as the README's configuration table,
and a unit test keeps the README and this class in step. Nothing else reads ``os.environ``:
``load_settings`` is called once by the composition root and the result is passed down.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import ipaddress
import itertools
import re
import textwrap
import types
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Union, get_args, get_origin, get_type_hints

ENV_PREFIX = "KONTOR_"


LANES = frozenset({"tx", "bulk"})
HASHED_KEY = re.compile(r"^([a-z2-7]{12}):([0-9a-f]{64})$")
"""An API key as configuration holds it, ``<prefix>:<digest>`` (``adapters.crypto.apikeys``):
the deploy keys of automation are configured so, never in plain text."""


class SettingsError(ValueError):
    """A ``KONTOR_*`` variable has a value that cannot be used; the message names it."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class Settings:
    """Kontor's configuration. Field ``x`` is read from ``KONTOR_X``."""

    database_url: str | None = None
    """PostgreSQL URL (``postgresql://user@host:port/db``). Unset: ``kontor up`` starts an
    embedded PostgreSQL server with its data under ``KONTOR_VAR_DIR``."""

    nats_url: str | None = None
    """NATS URL with JetStream enabled (``nats://host:port``). Unset: ``kontor up`` starts an
    embedded ``nats-server -js`` with its data under ``KONTOR_VAR_DIR``."""

    var_dir: Path = Path("var")
    """Directory for embedded servers' data, logs and other local state."""

    http_host: str = "127.0.0.1"
    """Address the API server binds."""

    http_port: int = 8000
    """Port the API server binds (``0``: a free port, printed at start)."""

    cors_origins: str = ""
    """Origins (comma-separated, e.g. ``https://app.example.de``; ``*`` for any) whose browsers
    may call the API from their pages: CORS pre-flights from them are answered. Empty: no CORS
    policy (an ``OPTIONS`` request gets 204 with ``Allow``, and browsers refuse cross-origin
    calls)."""

    metrics_host: str = "127.0.0.1"
    """Address the API's Prometheus metrics listener binds: loopback, so only this machine can
    scrape it (set an address of a private network for a Prometheus elsewhere)."""

    metrics_port: int = 9464
    """Port of the API's Prometheus metrics listener (``GET /metrics``; the API's own port
    answers 404 there). ``0``: a free port, printed at start (``kontor up`` prints the URL)."""

    log_level: str = "INFO"
    """Log level for the structured JSON logs (DEBUG, INFO, WARNING, ERROR)."""

    log_json: bool = True
    """Write logs as JSON lines (``false``: human-readable console lines)."""

    nats_prefix: str = "kontor"
    """Prefix of every JetStream stream and subject, so several installations (or test runs) can
    share one NATS server without seeing each other's messages."""

    db_pool_size: int = 8
    """Maximum connections in each PostgreSQL connection pool the API opens."""

    api_threads: int = 64
    """Threads the API runs its request handlers in. Single sends wait in them for their batch
    (``services.group_commit``) without holding a database connection, so there are more of
    them than connections: the more requests wait together, the fewer transactions they take."""

    ready_timeout: float = 2.0
    """Seconds ``GET /ready`` waits for PostgreSQL and NATS before it names one as failing."""

    restart_backoff_max: float = 30.0
    """Upper bound in seconds of the supervisor's back-off between restarts of a crashed child."""

    master_key: str | None = None
    """64 hex digits (32 bytes) wrapping every data key that protects personal data. Unset:
    ``kontor up`` generates one into ``KONTOR_VAR_DIR/secrets.json`` on first start."""

    api_key_pepper: str | None = None
    """Server-side secret mixed into the HMAC-SHA256 digests of API keys. Unset: ``kontor up``
    generates one into ``KONTOR_VAR_DIR/secrets.json`` on first start."""

    admin_api_key_hash: str | None = None
    """The operator's automation key (role admin) as ``<prefix>:<digest>`` (``kontor keys new``
    makes a key and prints it so; the key itself is never configured). People sign in as staff
    users instead (``kontor staff add``). Unset: ``kontor up`` generates a key into
    ``KONTOR_VAR_DIR/secrets.json`` and gives the API only its hash."""

    finance_api_key_hash: str | None = None
    """Finance's automation key (role finance: journal, trial balance), configured like the
    admin key's hash."""

    admin_api_key: str | None = None
    """Set by ``kontor up`` for its own tools (the chaos run) from ``secrets.json``; the API reads
    only ``admin_api_key_hash``. Deprecated as configuration: a key given here is hashed when
    the API starts."""

    finance_api_key: str | None = None
    """Like ``admin_api_key``, for finance's key."""

    trial_credit: int = 10_000
    """Credit granted on registration, in 1/10,000 EUR (10000 = 1.00 EUR net)."""

    trial_validity_days: int = 90
    """Days the trial credit stays usable."""

    package_validity_months: int = 6
    """Months a purchased SMS package stays usable from the day of purchase."""

    message_validity_hours: int = 72
    """Validity period of a message: a reservation expires at the send's scheduled time (or its
    acceptance) plus this (its send then completes, or, if still held for review, ends cancelled
    by the system); each submit_sm carries what is left of it as its validity period (the
    carrier drops the message after that and reports it expired); a message still unsent then
    is never sent (rejected, "validity period passed before submission", nothing charged); and
    a message without final report after it becomes unconfirmed."""

    nats_duplicate_window: float = 3600.0
    """Seconds JetStream remembers a message id to drop a republished duplicate: covers the
    longest relay or dispatcher restart we tolerate (consumers are idempotent beyond it)."""

    carriers_file: Path | None = None
    """TOML file of SMPP binds and routes (see adapters/carriers.py). Unset: ``kontor up`` starts
    the bundled SMSC simulator and writes ``KONTOR_VAR_DIR/carriers.toml`` for it."""

    carrier_processes: int = 2
    """Campaign carrier sender processes ``kontor up`` runs (besides one for single messages);
    each holds its own bind per route, and a receipt may come back over any of them (receipts
    are matched by carrier account)."""

    lanes: str = "tx,bulk"
    """Lanes a relay, dispatcher or carrier sender process serves (``tx``, ``bulk`` or both).
    ``kontor up`` runs each of them once for ``tx`` and (at a lower CPU priority) for ``bulk``,
    so single messages keep their own processes, their own bind and their own CPU share."""

    smsc_sim_args: str = ""
    """Extra options for the bundled SMSC simulator that ``kontor up`` starts (for example
    ``--scenario undeliverable --undeliverable 0.05``)."""

    webhook_allowed_networks: str = ""
    """Comma-separated networks (``10.0.0.0/8,127.0.0.1/32``) webhooks may be posted to
    although they are private, loopback or link-local; every other such address is refused
    (SSRF). Empty: only public addresses."""

    reply_part_timeout_seconds: float = 600.0
    """Seconds the ingest waits for the missing parts of a concatenated reply after its first
    part arrived; then the reply is recorded as what arrived, marked incomplete."""

    schedule_horizon_days: int = 365
    """How far ahead a send may be scheduled (``send_at``), in days. A prepaid send is also
    refused when the credit it would hold expires before its time."""

    single_send_max_recipients: int = 50
    """Recipients ``POST /v1/messages`` accepts at most (more: use a campaign)."""

    registrations_per_hour: int = 5
    """Registrations accepted per client address and hour (``POST /v1/accounts``), counted in
    PostgreSQL across every API process and restart; past it a 429 with ``Retry-After``."""

    terms_version: str = "2026-12"
    """The version of the terms and conditions a registration must accept (``accepted_terms``);
    the account keeps the version it accepted."""

    privacy_version: str = "2026-12"
    """The version of the privacy notice a registration must accept (``accepted_privacy``)."""

    smtp_url: str | None = None
    """Where mails go: ``smtp://[user:password@]host[:port]`` (STARTTLS when offered) or
    ``smtps://...``. Unset: ``kontor up`` starts a local SMTP sink that keeps every mail under
    ``KONTOR_VAR_DIR/mail`` (``kontor mail`` lists them) and sends nothing."""

    mail_from: str = "Kontor <noreply@kontor.localhost>"
    """The sender of the mails Kontor sends (password resets)."""

    public_url: str | None = None
    """The address customers reach the platform at, for the links in mails
    (``https://sms.example.de``). Unset: the API's own address."""

    forwarded_allow_ips: str = ""
    """Comma-separated addresses (or networks) of the reverse proxies whose ``X-Forwarded-For``
    and ``X-Forwarded-Proto`` the API believes. Empty: none, the client address is the TCP
    peer's (so a client cannot choose the address the registration limit counts)."""

    @property
    def resolved_var_dir(self) -> Path:
        return self.var_dir.resolve()

    @property
    def lane_set(self) -> frozenset[str]:
        """``lanes`` as a set; anything but ``tx`` and ``bulk`` is refused."""
        lanes = frozenset(lane.strip() for lane in self.lanes.split(",") if lane.strip())
        if not lanes or not lanes <= LANES:
            raise SettingsError(f"KONTOR_LANES={self.lanes!r}: expected tx, bulk or tx,bulk")
        return lanes

    @property
    def cors_origin_list(self) -> list[str]:
        """``cors_origins`` as a list (empty: CORS off)."""
        return [origin.strip() for origin in self.cors_origins.split(",") if origin.strip()]

    @property
    def trusted_proxies(self) -> list[str]:
        """``forwarded_allow_ips`` as a list (empty: no proxy is trusted)."""
        return [ip.strip() for ip in self.forwarded_allow_ips.split(",") if ip.strip()]

    def __post_init__(self) -> None:
        self.lane_set  # noqa: B018 - refuse a bad value when the settings are loaded
        for network in self.webhook_allowed_networks.split(","):
            try:
                if network.strip():
                    ipaddress.ip_network(network.strip(), strict=False)
            except ValueError as exc:
                raise SettingsError(f"KONTOR_WEBHOOK_ALLOWED_NETWORKS: {exc}") from exc
        for name in ("admin_api_key_hash", "finance_api_key_hash"):
            value = getattr(self, name)
            if value is not None and not HASHED_KEY.match(value):
                raise SettingsError(
                    f"KONTOR_{name.upper()}: expected <12-character prefix>:<64 hex digits>"
                    " (what `kontor keys new` prints)"
                )


def load_settings(environ: Mapping[str, str], **overrides: Any) -> Settings:
    """Build settings from ``KONTOR_*`` variables in ``environ`` (unset or empty: the default)."""
    hints = get_type_hints(Settings)
    values: dict[str, Any] = {}
    for field in dataclasses.fields(Settings):
        raw = environ.get(ENV_PREFIX + field.name.upper())
        if raw is None or raw == "":
            continue
        values[field.name] = _parse(field.name, hints[field.name], raw)
    values.update(overrides)
    return Settings(**values)


def _parse(name: str, hint: Any, raw: str) -> Any:
    var = ENV_PREFIX + name.upper()
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(hint) if a is not type(None)]
        hint = args[0]
    try:
        if hint is bool:
            lowered = raw.strip().lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
            raise ValueError("expected true or false")
        if hint is int:
            return int(raw)
        if hint is float:
            return float(raw)
        if hint is Path:
            return Path(raw)
        if hint is str:
            return raw
    except ValueError as exc:
        raise SettingsError(f"{var}={raw!r}: {exc}") from exc
    raise SettingsError(f"{var}: unsupported setting type {hint!r}")  # pragma: no cover


def field_docs() -> dict[str, str]:
    """Each field's docstring (the string literal right below it in the class body)."""
    source = textwrap.dedent(inspect.getsource(Settings))
    body = ast.parse(source).body[0]
    assert isinstance(body, ast.ClassDef)
    docs: dict[str, str] = {}
    statements = body.body
    for current, following in itertools.pairwise(statements):
        if (
            isinstance(current, ast.AnnAssign)
            and isinstance(current.target, ast.Name)
            and isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            docs[current.target.id] = " ".join(following.value.value.split()).replace("``", "`")
    return docs


def settings_table() -> str:
    """The configuration table for the README: variable, default, meaning."""
    docs = field_docs()
    rows = ["| variable | default | meaning |", "| --- | --- | --- |"]
    for field in dataclasses.fields(Settings):
        default = field.default
        shown = "unset" if default is None else f"`{default}`"
        rows.append(f"| `{ENV_PREFIX}{field.name.upper()}` | {shown} | {docs[field.name]} |")
    return "\n".join(rows)
