"""One typed settings object, read from the environment once and cached.

Every field maps to one environment variable (`CONVEYOR_<FIELD>`, except the
two connection URLs, which keep their conventional names). A bad value stops
the process at start with a message naming the variable.
"""

from __future__ import annotations

import functools
import ipaddress
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import msgspec

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

#: Variables that keep their conventional, unprefixed names.
UNPREFIXED = {"database_url": "DATABASE_URL", "redis_url": "REDIS_URL"}


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


class Settings(msgspec.Struct, kw_only=True, frozen=True):
    """Process configuration. Defaults give a working single-machine setup."""

    #: Postgres URL; empty means the embedded server that `conveyor up` starts.
    database_url: str = ""
    #: Redis URL; empty means the embedded server that `conveyor up` starts.
    redis_url: str = ""
    #: Where uploads, datasets and run logs live: a local directory, or `s3://bucket/prefix` (an
    #: S3-compatible store, configured by the standard AWS_* variables) when processes span hosts.
    data_root: str = ".conveyor"
    #: This host's own directory for caches and scratch (and the embedded servers) when the data
    #: root is in S3; empty means `.conveyor-cache`. With a local data root, caches live under it.
    cache_dir: str = ""
    #: Largest size of the local cache of dataset versions read from the store, in GB.
    cache_max_gb: float = 10.0
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    #: Worker processes and threads per process started by `conveyor up`.
    worker_processes: int = 2
    worker_threads: int = 8
    #: Longest a worker's consumer waits before asking Redis again (ms). Sends wake it at once, so this only
    #: bounds how soon it sees a message that came without a wake (Dramatiq moving back a dead worker's) and
    #: how soon its threads notice a shutdown; a short one costs an idle worker CPU (10 ms: ~8 % of a core).
    worker_poll_ms: int = 1000
    #: Dramatiq queue that run messages go to.
    queue: str = "runs"
    #: Key prefix for everything Conveyor and Dramatiq keep in Redis.
    redis_namespace: str = "conveyor"
    #: How often a worker heartbeats its running runs (and sees cancels).
    heartbeat_seconds: float = 1.0
    #: A RUNNING run whose heartbeat is older than this is lost.
    lease_seconds: float = 30.0
    #: A QUEUED run not started this long after its message left is checked and re-sent.
    resend_after_seconds: float = 30.0
    #: How long a worker keeps trying a run's start or end write while the database is down;
    #: after that the message goes back to the broker, or the reaper retries the run.
    database_wait_seconds: float = 300.0
    #: Outbox rows claimed per relay transaction.
    relay_batch: int = 500
    #: Relay threads per scheduler: they share a burst of due rows (SKIP LOCKED), one Postgres session each.
    relay_threads: int = 2
    #: Longest the relay waits for a NOTIFY before polling the outbox.
    relay_poll_seconds: float = 1.0
    #: A submit commits its runs QUEUED and the API sends them right after its commit, instead of leaving them to
    #: the relay (a refused send goes back to the outbox; the reaper re-sends a run the API never sent).
    eager_send: bool = True
    #: The schedule loop plans fire times up to this many seconds ahead (runs wait, PENDING, with their
    #: outbox row due at the fire time), so at the fire time only the dispatch is left. 0 plans at the fire time.
    schedule_lookahead_seconds: float = 5.0
    #: How often the reaper looks for lost and stuck runs.
    reaper_interval_seconds: float = 2.0
    default_max_retries: int = 0
    retry_backoff_seconds: float = 10.0
    retry_backoff_max_seconds: float = 600.0
    #: Random extra delay, as a fraction of the backoff (0.2 = up to +20 %).
    retry_jitter: float = 0.2
    default_timeout_seconds: int = 3600
    max_timeout_seconds: int = 7 * 24 * 3600
    max_batch_runs: int = 1000
    #: How long an Idempotency-Key is remembered.
    idempotency_ttl_hours: int = 24
    #: Entries kept per run in the live log stream in Redis.
    log_stream_maxlen: int = 10_000
    #: How long a finished run's live log stream stays in Redis.
    log_stream_ttl_seconds: int = 3600
    #: Live log streams (SSE) one API process follows at once, in all and per user (app/api/stream_slots.py).
    max_live_streams: int = 200
    max_live_streams_per_user: int = 32
    #: Who may create an account: anyone (`open`), holders of an invite (`invite`), or only admins.
    registration: Literal["open", "invite", "closed"] = "closed"
    #: Password of the bootstrap `admin` created on first start; empty: generated and printed once.
    admin_password: str = ""
    password_min_length: int = 10
    #: argon2id cost: iterations, memory (KiB) and lanes. Raising them rehashes passwords at next login.
    argon2_time_cost: int = 2
    argon2_memory_kib: int = 65_536
    argon2_parallelism: int = 2
    access_token_minutes: int = 15
    refresh_token_days: int = 30
    api_token_max_days: int = 365
    #: Failed logins on one account from one client address before that address is locked for the account for
    #: a while; the lock doubles each time (app/domain/throttle.py).
    login_max_failures: int = 5
    #: Failed logins on one account from every address before the account is locked for everyone.
    login_max_failures_per_account: int = 50
    #: Failed logins (per client address) before that address is locked for a while.
    login_max_failures_per_client: int = 20
    login_lock_seconds: float = 30.0
    login_lock_max_seconds: float = 900.0
    #: Comma-separated origins a browser app may call the API from (`*` for any).
    cors_origins: str = ""
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = "text"
    #: Largest file one upload may bring (multipart or resumable).
    max_upload_bytes: int = 5 * 1024**3
    #: A resumable upload not completed in this time is dropped, with its bytes.
    upload_expiry_hours: int = 24
    #: Largest sum of a workbook's uncompressed parts, and most cells a workbook import reads (a workbook is
    #: read whole by calamine, about 75 bytes per cell: 12,000,000 cells fit a 1 GiB worker).
    max_workbook_uncompressed_bytes: int = 2 * 1024**3
    max_workbook_cells: int = 12_000_000
    #: Most rows a preview returns.
    max_preview_rows: int = 1000
    #: Memory and threads of one import's (or pipeline's) DuckDB connection.
    job_memory_limit_mb: int = 1024
    job_threads: int = 2
    #: DuckDB work the API does within a request (file preview, dataset rows and downloads, pipeline validation):
    #: its wall-clock limit, and each connection's memory and threads. A request over a limit gets 422
    #: `query_too_expensive` (downloads stream, so only their memory and threads are capped).
    request_query_seconds: float = 10.0
    request_query_memory_mb: int = 256
    request_query_threads: int = 1
    #: Days a finished run's logs and events are kept (0: forever); the run row stays for metrics.
    run_log_retention_days: int = 30
    #: Days a finished run's row is kept (0: forever); metrics over older windows lose those runs.
    run_retention_days: int = 0
    #: The address users reach Conveyor at (e.g. https://conveyor.example.com); when set, webhook payload
    #: links are absolute URLs under it, otherwise API paths relative to it.
    public_url: str = ""
    #: Webhooks may target loopback, private and link-local addresses (tests, closed networks); metadata never.
    webhook_allow_private: bool = False
    #: One delivery attempt's limit (connect + answer), and how many the sender makes at once.
    webhook_timeout_seconds: float = 10.0
    webhook_concurrency: int = 16
    #: Longest the webhook sender waits for a NOTIFY before polling: every new or redelivered delivery wakes it
    #: at once and retries are due at times it knows, so the poll only finds one whose NOTIFY was lost.
    webhook_poll_seconds: float = 30.0
    #: Attempts before a delivery is marked failed; the delay before retry n is base·2^(n-1), capped, + jitter.
    webhook_max_attempts: int = 16
    webhook_backoff_seconds: float = 30.0
    webhook_backoff_max_seconds: float = 4 * 3600.0
    #: A subscription whose every attempt has failed for this long is disabled (and audited).
    webhook_disable_after_hours: float = 24.0
    #: After a rotation the previous secret keeps signing (beside the new one) for this long.
    webhook_secret_grace_hours: float = 24.0
    #: Days a finished (delivered or failed) webhook delivery and its attempts are kept (0: forever).
    webhook_delivery_retention_days: int = 30
    #: How often the scheduler folds newly finished runs into the hourly metrics rollup.
    rollup_interval_seconds: float = 5.0
    #: Metrics to switch off (comma-separated names from GET /api/v1/metrics/catalog).
    disabled_metrics: str = ""
    #: How long a deleted dataset's files stay before the cleanup job removes them.
    dataset_retention_hours: int = 24
    #: Unfinished multipart uploads on an S3 data root older than this are aborted by the cleanup job (a process
    #: killed mid-upload leaves its parts behind); 0 leaves them (to a bucket lifecycle rule instead).
    multipart_upload_max_age_hours: float = 24.0
    # --- HTTP boundary ---
    #: Comma-separated addresses or networks of reverse proxies whose X-Forwarded-For is believed; empty:
    #: none, the connection's peer is the caller (set it to the proxy's address behind one, e.g. in compose).
    trusted_proxies: str = ""
    #: Requests per minute one API token (or access token) may make; 0 switches the limit off.
    rate_limit_per_minute: int = 1200
    #: Requests per minute one address may make without a valid token (sign-ins, bad tokens); 0: off.
    rate_limit_per_address_per_minute: int = 1200

    def __post_init__(self) -> None:
        checks: list[tuple[str, bool, str]] = [
            ("api_port", 0 <= self.api_port <= 65535, "must be a TCP port (0-65535)"),
            ("worker_processes", self.worker_processes >= 0, "must be >= 0"),
            ("worker_threads", self.worker_threads >= 1, "must be >= 1"),
            ("worker_poll_ms", 1 <= self.worker_poll_ms <= 10_000, "must be between 1 and 10000"),
            ("heartbeat_seconds", self.heartbeat_seconds > 0, "must be > 0"),
            ("lease_seconds", self.lease_seconds > self.heartbeat_seconds, "must exceed HEARTBEAT_SECONDS"),
            ("resend_after_seconds", self.resend_after_seconds > 0, "must be > 0"),
            ("database_wait_seconds", self.database_wait_seconds >= 0, "must be >= 0"),
            ("relay_batch", 1 <= self.relay_batch <= 10_000, "must be between 1 and 10000"),
            ("relay_poll_seconds", self.relay_poll_seconds > 0, "must be > 0"),
            ("relay_threads", 1 <= self.relay_threads <= 16, "must be between 1 and 16"),
            ("reaper_interval_seconds", self.reaper_interval_seconds > 0, "must be > 0"),
            ("max_upload_bytes", self.max_upload_bytes >= 1, "must be >= 1"),
            ("cache_max_gb", self.cache_max_gb > 0, "must be > 0"),
            (
                "data_root",
                not self.data_root.startswith("s3://")
                or 3 <= len(self.data_root.removeprefix("s3://").partition("/")[0]) <= 63,
                "must be a directory or s3://BUCKET/PREFIX with a bucket name of 3 to 63 characters",
            ),
            ("upload_expiry_hours", 1 <= self.upload_expiry_hours <= 24 * 30, "must be between 1 and 720"),
            ("max_workbook_uncompressed_bytes", self.max_workbook_uncompressed_bytes >= 1024, "must be >= 1024"),
            ("max_workbook_cells", self.max_workbook_cells >= 1, "must be >= 1"),
            ("max_preview_rows", 1 <= self.max_preview_rows <= 100_000, "must be between 1 and 100000"),
            ("job_memory_limit_mb", self.job_memory_limit_mb >= 64, "must be >= 64"),
            ("job_threads", 1 <= self.job_threads <= 256, "must be between 1 and 256"),
            ("request_query_seconds", 0 < self.request_query_seconds <= 3600, "must be between 0 and 3600"),
            ("request_query_memory_mb", self.request_query_memory_mb >= 64, "must be >= 64"),
            ("request_query_threads", 1 <= self.request_query_threads <= 256, "must be between 1 and 256"),
            ("dataset_retention_hours", self.dataset_retention_hours >= 0, "must be >= 0"),
            ("multipart_upload_max_age_hours", self.multipart_upload_max_age_hours >= 0, "must be >= 0"),
            ("run_log_retention_days", self.run_log_retention_days >= 0, "must be >= 0"),
            ("run_retention_days", self.run_retention_days >= 0, "must be >= 0"),
            ("webhook_delivery_retention_days", self.webhook_delivery_retention_days >= 0, "must be >= 0"),
            ("rollup_interval_seconds", 0 < self.rollup_interval_seconds <= 3600, "must be between 0 and 3600"),
            ("schedule_lookahead_seconds", 0 <= self.schedule_lookahead_seconds <= 300, "must be between 0 and 300"),
            ("default_max_retries", 0 <= self.default_max_retries <= 100, "must be between 0 and 100"),
            ("retry_backoff_seconds", self.retry_backoff_seconds >= 0, "must be >= 0"),
            ("retry_backoff_max_seconds", self.retry_backoff_max_seconds >= 0, "must be >= 0"),
            ("retry_jitter", 0 <= self.retry_jitter <= 1, "must be between 0 and 1"),
            ("default_timeout_seconds", self.default_timeout_seconds >= 1, "must be >= 1"),
            (
                "max_timeout_seconds",
                self.max_timeout_seconds >= self.default_timeout_seconds,
                "must be >= DEFAULT_TIMEOUT_SECONDS",
            ),
            ("max_batch_runs", 1 <= self.max_batch_runs <= 100_000, "must be between 1 and 100000"),
            ("idempotency_ttl_hours", self.idempotency_ttl_hours >= 1, "must be >= 1"),
            ("log_stream_maxlen", self.log_stream_maxlen >= 100, "must be >= 100"),
            ("max_live_streams", 1 <= self.max_live_streams <= 10_000, "must be between 1 and 10000"),
            (
                "max_live_streams_per_user",
                1 <= self.max_live_streams_per_user <= self.max_live_streams,
                "must be between 1 and MAX_LIVE_STREAMS",
            ),
            ("password_min_length", 8 <= self.password_min_length <= 1024, "must be between 8 and 1024"),
            ("argon2_time_cost", 1 <= self.argon2_time_cost <= 100, "must be between 1 and 100"),
            (
                "argon2_memory_kib",
                8 * self.argon2_parallelism <= self.argon2_memory_kib <= 4_194_304,
                "must be between 8 x ARGON2_PARALLELISM and 4194304",
            ),
            ("argon2_parallelism", 1 <= self.argon2_parallelism <= 64, "must be between 1 and 64"),
            ("access_token_minutes", 1 <= self.access_token_minutes <= 1440, "must be between 1 and 1440"),
            ("refresh_token_days", 1 <= self.refresh_token_days <= 365, "must be between 1 and 365"),
            ("api_token_max_days", 1 <= self.api_token_max_days <= 3650, "must be between 1 and 3650"),
            ("login_max_failures", self.login_max_failures >= 1, "must be >= 1"),
            ("webhook_timeout_seconds", self.webhook_timeout_seconds > 0, "must be > 0"),
            ("webhook_concurrency", self.webhook_concurrency >= 1, "must be >= 1"),
            ("webhook_poll_seconds", self.webhook_poll_seconds > 0, "must be > 0"),
            ("webhook_max_attempts", self.webhook_max_attempts >= 1, "must be >= 1"),
            ("login_max_failures_per_client", self.login_max_failures_per_client >= 1, "must be >= 1"),
            ("login_max_failures_per_account", self.login_max_failures_per_account >= 1, "must be >= 1"),
            ("login_lock_seconds", self.login_lock_seconds > 0, "must be > 0"),
            ("rate_limit_per_minute", self.rate_limit_per_minute >= 0, "must be >= 0 (0: no limit)"),
            (
                "rate_limit_per_address_per_minute",
                self.rate_limit_per_address_per_minute >= 0,
                "must be >= 0 (0: no limit)",
            ),
            (
                "login_lock_max_seconds",
                self.login_lock_max_seconds >= self.login_lock_seconds,
                "must be >= LOGIN_LOCK_SECONDS",
            ),
            (
                "queue",
                self.queue.replace("-", "").replace("_", "").replace(".", "").isalnum(),
                "must be letters, digits, '-', '_' or '.'",
            ),
        ]
        for field, ok, message in checks:
            if not ok:
                raise SettingsError(f"{env_name(field)} {message} (got {getattr(self, field)!r})")
        for field in ("database_url", "redis_url", "public_url"):
            self._check_url(field)
        try:
            self.trusted_proxy_networks  # noqa: B018  (parsed here so a typo stops the start)
        except ValueError as exc:
            raise SettingsError(f"{env_name('trusted_proxies')}: {exc}") from None

    def _check_url(self, field: str) -> None:
        value: str = getattr(self, field)
        schemes = {
            "database_url": ("postgresql://", "postgresql+psycopg://", "postgres://"),
            "redis_url": ("redis://", "rediss://", "unix://"),
            "public_url": ("http://", "https://"),
        }[field]
        if value and not value.startswith(schemes):
            raise SettingsError(f"{env_name(field)} must start with one of {', '.join(schemes)}")

    @property
    def cors_origin_list(self) -> list[str]:
        return [o.strip() for o in self.cors_origins.split(",") if o.strip()]

    @property
    def trusted_proxy_networks(self) -> tuple[IpNetwork, ...]:
        """CONVEYOR_TRUSTED_PROXIES as networks (a bare address is a /32 or /128)."""
        networks = []
        for item in (part.strip() for part in self.trusted_proxies.split(",")):
            if item:
                try:
                    networks.append(ipaddress.ip_network(item, strict=False))
                except ValueError:
                    raise ValueError(f"{item!r} is not an IP address or network") from None
        return tuple(networks)

    @property
    def data_in_store(self) -> bool:
        """True when the data root is an S3-compatible store rather than a local directory."""
        return self.data_root.startswith("s3://")

    @property
    def data_path(self) -> Path:
        """This host's directory: the data root itself when local, else CONVEYOR_CACHE_DIR (scratch, caches)."""
        if self.data_in_store:
            return Path(self.cache_dir or ".conveyor-cache").resolve()
        return Path(self.data_root).resolve()

    @property
    def cache_path(self) -> Path:
        """Where this host caches dataset versions read from the store (bounded by CACHE_MAX_GB)."""
        return self.data_path / "cache"

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL in the form SQLAlchemy's psycopg 3 dialect expects."""
        url = self.database_url
        for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix) :]
        return url


def env_name(field: str) -> str:
    """The environment variable that sets `field`."""
    return UNPREFIXED.get(field, f"CONVEYOR_{field.upper()}")


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build settings from an environment mapping; raises SettingsError naming the variable."""
    environ = os.environ if environ is None else environ
    raw: dict[str, Any] = {}
    for field in Settings.__struct_fields__:
        value = environ.get(env_name(field))
        if value is not None and value != "":
            raw[field] = value
    try:
        return msgspec.convert(raw, Settings, strict=False)
    except msgspec.ValidationError as exc:
        raise SettingsError(_explain(exc)) from None


def _explain(exc: msgspec.ValidationError) -> str:
    """Turn msgspec's `... - at $.field` into a message naming the variable."""
    text = str(exc)
    if " - at `$." in text:
        message, _, path = text.rpartition(" - at `$.")
        return f"{env_name(path.rstrip('`').split('.')[0].split('[')[0])}: {message}"
    return text


@functools.cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return load_settings()
