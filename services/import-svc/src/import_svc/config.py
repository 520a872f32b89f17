"""Everything import-svc reads from the environment."""

import os
from collections.abc import Mapping
from dataclasses import dataclass

from optimize_runtime.settings import CommonSettings, HttpSettings


@dataclass(frozen=True)
class ImportConfig:
    common: CommonSettings
    http: HttpSettings
    max_import_bytes: int
    max_import_entities: int
    max_entity_name_length: int

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "ImportConfig":
        e = os.environ if environ is None else environ
        return cls(
            common=CommonSettings.from_env("import-svc", e),
            http=HttpSettings.from_env("OPTIMIZE_IMPORT_PORT", 8083, e),
            max_import_bytes=int(e.get("OPTIMIZE_IMPORT_MAX_BYTES", str(32 * 1024 * 1024))),
            max_import_entities=int(e.get("OPTIMIZE_IMPORT_MAX_ENTITIES", "10000")),
            max_entity_name_length=int(e.get("OPTIMIZE_ENTITY_NAME_MAX_LENGTH", "100")),
        )
