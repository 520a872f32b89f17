"""Importing an export file: validation collecting every problem, the catalog's verdict, the plan."""

from import_svc.domain.importing.import_file import payload_too_large
from import_svc.domain.importing.importer import (
    AtomicImports,
    Catalog,
    Claim,
    Idempotency,
    Importer,
    ImportRequest,
)
from import_svc.domain.importing.overwrite import MODES, NEW_COPIES, OVERWRITE, EarlierCopy
from import_svc.domain.importing.plan import ImportPlan, PlannedEntity
from import_svc.domain.importing.refusal import ImportProblem, ImportRefused

__all__ = [
    "MODES",
    "NEW_COPIES",
    "OVERWRITE",
    "Catalog",
    "Claim",
    "EarlierCopy",
    "Idempotency",
    "ImportPlan",
    "ImportProblem",
    "ImportRefused",
    "ImportRequest",
    "AtomicImports",
    "Importer",
    "PlannedEntity",
    "payload_too_large",
]
