"""Everything catalog-svc reads from the environment."""

import os
from collections.abc import Mapping
from dataclasses import dataclass

from optimize_runtime.settings import CommonSettings, HttpSettings


@dataclass(frozen=True)
class CatalogConfig:
    common: CommonSettings
    http: HttpSettings
    rpc_prefetch: int

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "CatalogConfig":
        e = os.environ if environ is None else environ
        return cls(
            common=CommonSettings.from_env("catalog-svc", e),
            http=HttpSettings.from_env("OPTIMIZE_CATALOG_PORT", 8081, e),
            rpc_prefetch=int(e.get("OPTIMIZE_RPC_PREFETCH", "8")),
        )
