"""Everything import-svc reads from the environment."""

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from contracts.export_file.versions import PLATFORMS
from optimize_runtime.settings import CommonSettings, ConfigurationError, HttpSettings, env_list


@dataclass(frozen=True)
class ImportConfig:
    common: CommonSettings
    http: HttpSettings
    max_import_bytes: int
    max_import_entities: int
    max_entity_name_length: int
    # A body larger than this is spooled to a temporary file and read entity by entity (memory bounded
    # by the largest entity, not the file); smaller ones are parsed in memory, faster.
    spool_import_bytes: int = 8 * 1024 * 1024
    # The installation's platform (c7 | c8): older files are upgraded as Optimize upgraded its data there.
    platform: str = "c7"
    # How long an import's process counts as alive without renewing its lease (it renews every third).
    import_lease_s: float = 60.0
    # How often each process sweeps what dead imports left (also once at start); 0: never.
    sweep_interval_s: float = 60.0
    # How long after its commit an import's pending markers are cleared, together with those of every import
    # committed meanwhile (one update per collection for all of them, off the request path).
    marker_clear_delay_s: float = 0.2
    # Crash tests only: where an import or authoring write waits to be killed (adapters/pause_points.py).
    pause_at: tuple[str, ...] = ()
    pause_file: Path | None = None
    # `import-svc consume`: its durable queue on the events exchange, and how a failing event is retried.
    collection_events_queue: str = "import-svc.collection-events"
    events_max_attempts: int = 5
    events_retry_delay_s: float = 2.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "ImportConfig":
        e = os.environ if environ is None else environ
        common = CommonSettings.from_env("import-svc", e)
        pause_at = env_list(e.get("OPTIMIZE_IMPORT_PAUSE_AT"))
        if pause_at and common.env == "production":
            raise ConfigurationError("import-svc: OPTIMIZE_IMPORT_PAUSE_AT is for crash tests; it is refused "
                                     "in production (OPTIMIZE_ENV)")
        platform = e.get("OPTIMIZE_PLATFORM", "c7")
        if platform not in PLATFORMS:
            raise ConfigurationError(f"import-svc: OPTIMIZE_PLATFORM must be one of {', '.join(PLATFORMS)}, "
                                     f"not {platform!r}")
        return cls(
            common=common,
            platform=platform,
            http=HttpSettings.from_env("OPTIMIZE_IMPORT_PORT", 8083, e),
            max_import_bytes=int(e.get("OPTIMIZE_IMPORT_MAX_BYTES", str(32 * 1024 * 1024))),
            max_import_entities=int(e.get("OPTIMIZE_IMPORT_MAX_ENTITIES", "10000")),
            max_entity_name_length=int(e.get("OPTIMIZE_ENTITY_NAME_MAX_LENGTH", "100")),
            spool_import_bytes=int(e.get("OPTIMIZE_IMPORT_SPOOL_BYTES", str(8 * 1024 * 1024))),
            import_lease_s=float(e.get("OPTIMIZE_IMPORT_LEASE_S", "60")),
            sweep_interval_s=float(e.get("OPTIMIZE_IMPORT_SWEEP_INTERVAL_S", "60")),
            marker_clear_delay_s=float(e.get("OPTIMIZE_IMPORT_MARKER_CLEAR_DELAY_S", "0.2")),
            pause_at=pause_at,
            pause_file=Path(e["OPTIMIZE_IMPORT_PAUSE_FILE"]) if e.get("OPTIMIZE_IMPORT_PAUSE_FILE") else None,
            collection_events_queue=e.get("OPTIMIZE_COLLECTION_EVENTS_QUEUE", "import-svc.collection-events"),
            events_max_attempts=int(e.get("OPTIMIZE_EVENTS_MAX_ATTEMPTS", "5")),
            events_retry_delay_s=float(e.get("OPTIMIZE_EVENTS_RETRY_DELAY_S", "2")),
        )
