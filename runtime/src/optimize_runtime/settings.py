"""Settings every service shares. Each service's config.py reads them through `CommonSettings.from_env`
together with its own; nothing else reads the environment."""

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

DEVELOPMENT = "development"


class ConfigurationError(RuntimeError):
    """The service cannot start with this configuration; the message says what to set."""


def env_list(value: str | None) -> tuple[str, ...]:
    return tuple(item.strip() for item in (value or "").split(",") if item.strip())


def env_bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def amqp_url_with_credentials(url: str, username: str | None, password: str | None) -> str:
    """The URL with these credentials in it, quoted: operators (e.g. RabbitMQ's) hand out the user and the
    password as separate Secret keys, and a generated password may hold characters a URL must escape."""
    if not username:
        return url
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    credentials = f"{quote(username, safe='')}:{quote(password or '', safe='')}"
    return urlunsplit(parts._replace(netloc=f"{credentials}@{host}"))


ENTITY_ACCESS_POLICIES = ("superuser", "optimize8")


@dataclass(frozen=True)
class AuthSettings:
    jwt_secret: str | None = field(default=None, repr=False)
    jwks_url: str | None = None
    audience: str | None = None
    public_audience: str = "optimize-public-api"
    api_access_token: str | None = field(default=None, repr=False)
    superuser_ids: tuple[str, ...] = ()
    superuser_groups: tuple[str, ...] = ()
    # Who may export and import: `superuser` (Optimize 3.3, as its documentation says) or `optimize8`
    # (no superuser check; a private import needs the entity-editor authorization).
    entity_access: str = "superuser"
    entity_editor_ids: tuple[str, ...] = ()
    entity_editor_groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class CommonSettings:
    service: str
    env: str
    mongodb_uri: str
    mongodb_embedded: bool
    data_dir: Path
    amqp_url: str
    rpc_queue: str
    events_exchange: str
    rpc_timeout_s: float
    catalog_db: str
    entities_db: str
    auth: AuthSettings
    log_level: str = "INFO"
    log_format: str = "json"
    # Parent of each gunicorn server's multiprocess metrics directory (PROMETHEUS_MULTIPROC_DIR).
    metrics_dir: Path | None = None
    # Port of /healthz, /readyz and /metrics of a process without its own HTTP API (the RPC worker).
    operations_port: int = 9464

    @property
    def development(self) -> bool:
        return self.env == DEVELOPMENT

    @classmethod
    def from_env(cls, service: str, environ: Mapping[str, str] | None = None) -> "CommonSettings":
        e = os.environ if environ is None else environ
        env = e.get("OPTIMIZE_ENV", "production")
        auth = AuthSettings(
            jwt_secret=e.get("OPTIMIZE_AUTH_JWT_SECRET") or None,
            jwks_url=e.get("OPTIMIZE_AUTH_JWKS_URL") or None,
            audience=e.get("OPTIMIZE_AUTH_AUDIENCE") or None,
            public_audience=e.get("OPTIMIZE_AUTH_PUBLIC_AUDIENCE", "optimize-public-api"),
            api_access_token=e.get("OPTIMIZE_API_ACCESS_TOKEN") or None,
            superuser_ids=env_list(e.get("OPTIMIZE_AUTH_SUPERUSER_IDS")),
            superuser_groups=env_list(e.get("OPTIMIZE_AUTH_SUPERUSER_GROUPS")),
            entity_access=e.get("OPTIMIZE_ENTITY_ACCESS", "superuser"),
            entity_editor_ids=env_list(e.get("OPTIMIZE_AUTH_ENTITY_EDITOR_IDS")),
            entity_editor_groups=env_list(e.get("OPTIMIZE_AUTH_ENTITY_EDITOR_GROUPS")),
        )
        if auth.entity_access not in ENTITY_ACCESS_POLICIES:
            raise ConfigurationError(f"{service}: OPTIMIZE_ENTITY_ACCESS must be one of "
                                     f"{', '.join(ENTITY_ACCESS_POLICIES)}, not {auth.entity_access!r}")
        if not auth.jwt_secret and not auth.jwks_url and env != DEVELOPMENT:
            raise ConfigurationError(
                f"{service}: no authentication configured. Set OPTIMIZE_AUTH_JWT_SECRET (HS256) or "
                "OPTIMIZE_AUTH_JWKS_URL (RS256); only OPTIMIZE_ENV=development may start without one."
            )
        mongodb_uri = e.get("OPTIMIZE_MONGODB_URI")
        if not mongodb_uri:
            raise ConfigurationError(f"{service}: OPTIMIZE_MONGODB_URI is not set (make run sets it locally)")
        return cls(
            service=service,
            env=env,
            mongodb_uri=mongodb_uri,
            mongodb_embedded=env_bool(e.get("OPTIMIZE_MONGODB_EMBEDDED")),
            data_dir=Path(e.get("OPTIMIZE_DATA_DIR", ".data")),
            amqp_url=amqp_url_with_credentials(
                e.get("OPTIMIZE_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F"),
                e.get("OPTIMIZE_AMQP_USERNAME") or None, e.get("OPTIMIZE_AMQP_PASSWORD") or None),
            rpc_queue=e.get("OPTIMIZE_RPC_QUEUE", "catalog.rpc"),
            events_exchange=e.get("OPTIMIZE_EVENTS_EXCHANGE", "optimize.events"),
            rpc_timeout_s=float(e.get("OPTIMIZE_RPC_TIMEOUT_S", "5")),
            catalog_db=e.get("OPTIMIZE_CATALOG_DB", "optimize_catalog"),
            entities_db=e.get("OPTIMIZE_ENTITIES_DB", "optimize_entities"),
            auth=auth,
            log_level=e.get("OPTIMIZE_LOG_LEVEL", "INFO"),
            log_format=e.get("OPTIMIZE_LOG_FORMAT", "json"),
            metrics_dir=Path(e["OPTIMIZE_METRICS_DIR"]) if e.get("OPTIMIZE_METRICS_DIR") else None,
            operations_port=int(e.get("OPTIMIZE_OPERATIONS_PORT", "9464")),
        )


@dataclass(frozen=True)
class HttpSettings:
    host: str
    port: int
    workers: int
    threads: int
    graceful_timeout_s: int
    read_timeout_s: float = 30.0  # a request head or body that takes longer is refused (408)

    @property
    def bind(self) -> str:
        return f"{self.host}:{self.port}"

    @classmethod
    def from_env(cls, port_variable: str, default_port: int,
                 environ: Mapping[str, str] | None = None) -> "HttpSettings":
        e = os.environ if environ is None else environ
        return cls(
            host=e.get("OPTIMIZE_HTTP_HOST", "127.0.0.1"),
            port=int(e.get(port_variable, str(default_port))),
            workers=int(e.get("OPTIMIZE_HTTP_WORKERS", "2")),
            threads=int(e.get("OPTIMIZE_HTTP_THREADS", "8")),
            graceful_timeout_s=int(e.get("OPTIMIZE_GRACEFUL_TIMEOUT_S", "30")),
            read_timeout_s=float(e.get("OPTIMIZE_HTTP_READ_TIMEOUT_S", "30")),
        )
