"""Everything export-svc reads from the environment."""

import os
from collections.abc import Mapping
from dataclasses import dataclass

from optimize_runtime.settings import CommonSettings, HttpSettings


@dataclass(frozen=True)
class ExportConfig:
    common: CommonSettings
    http: HttpSettings

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "ExportConfig":
        e = os.environ if environ is None else environ
        return cls(
            common=CommonSettings.from_env("export-svc", e),
            http=HttpSettings.from_env("OPTIMIZE_EXPORT_PORT", 8082, e),
        )
