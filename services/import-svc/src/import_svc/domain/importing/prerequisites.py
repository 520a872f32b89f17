"""The catalog's verdict on a file's definitions, and the problems it makes: definitions missing in the
target, forbidden to the user, or outside the target collection's scope (keys or tenants)."""

from collections.abc import Iterator
from dataclasses import dataclass, field

from contracts.catalog_rpc import CollectionAccess, DefinitionCheck, DefinitionRef, ImportCheck
from contracts.errors import ErrorCode
from import_svc.domain.importing.refusal import ImportProblem

DEFINITION_TYPE_OF = {"single_process_report": "process", "single_decision_report": "decision"}

DefinitionKey = tuple[str, str]


@dataclass(frozen=True)
class DefinitionUse:
    """One definition as one single report reads it."""

    entity: dict
    type: str
    definition: dict

    @property
    def key(self) -> DefinitionKey:
        return self.type, self.definition["key"]

    @property
    def reference(self) -> DefinitionRef:
        """The definition exactly as the report reads it (type, key, versions, tenants)."""
        return DefinitionRef(self.type, self.definition["key"], tuple(self.definition["versions"]),
                             tuple(self.definition["tenantIds"]))


def definition_uses(entities: list[dict]) -> Iterator[DefinitionUse]:
    for entity in entities:
        definition_type = DEFINITION_TYPE_OF.get(entity.get("exportEntityType"))
        if definition_type is None:
            continue
        for definition in entity["data"]["definitions"]:
            yield DefinitionUse(entity, definition_type, definition)


def _fields(use: DefinitionUse) -> tuple:
    """The fields of the use's `reference`, as a plain tuple: cheaper to make and compare."""
    definition = use.definition
    return use.type, definition["key"], tuple(definition["versions"]), tuple(definition["tenantIds"])


def distinct_references(entities: list[dict]) -> list[DefinitionRef]:
    """What the one `check_import` call asks about the whole file: each distinct reference once, so that
    every report is judged (and gets the XML) for its own versions and tenants, as in Optimize."""
    return [DefinitionRef(*fields) for fields in dict.fromkeys(map(_fields, definition_uses(entities)))]


@dataclass
class CatalogVerdict:
    """What `check_import` answered: the collection (or None) and one check per reference."""

    collection: CollectionAccess | None = None
    checks: dict[DefinitionRef, DefinitionCheck] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # By the fields of each reference, as a plain tuple: a use is looked up several times per import,
        # and making a DefinitionRef for each lookup cost more than the rest of the lookup.
        self._by_fields = {(ref.type, ref.key, ref.versions, ref.tenant_ids): check
                           for ref, check in self.checks.items()}

    @classmethod
    def of(cls, answer: ImportCheck) -> "CatalogVerdict":
        return cls(answer.collection, {check.ref: check for check in answer.definitions})

    def check(self, use: DefinitionUse) -> DefinitionCheck:
        # A definition the catalog did not answer for is one it does not know.
        return self._by_fields.get(_fields(use)) or DefinitionCheck(
            DefinitionRef(use.type, use.definition["key"], (), ()), exists=False, authorized=True)

    def kept_versions(self, use: DefinitionUse) -> list[str]:
        """The listed versions that exist in the target (`all` and `latest` do when any version does)."""
        missing = set(self.check(use).missing_versions)
        return [version for version in use.definition["versions"] if version not in missing]

    def xml_of(self, use: DefinitionUse) -> str | None:
        """The target's XML of the latest existing version this use lists."""
        return self.check(use).xml


def _summaries(uses: list[DefinitionUse]) -> list[dict]:
    entities = {id(use.entity): use.entity for use in uses}
    return [{"id": entity["id"], "name": entity["name"], "exportEntityType": entity["exportEntityType"]}
            for entity in entities.values()]


def _merged(references: list[tuple[DefinitionKey, list, list]]) -> list[dict]:
    merged: dict[DefinitionKey, dict] = {}
    for (definition_type, key), versions, tenants in references:
        entry = merged.setdefault((definition_type, key),
                                  {"type": definition_type, "key": key, "versions": [], "tenantIds": []})
        entry["versions"] += [version for version in versions if version not in entry["versions"]]
        entry["tenantIds"] += [tenant for tenant in tenants if tenant not in entry["tenantIds"]]
    return list(merged.values())


def _named(definitions: list[dict]) -> str:
    return ", ".join(f"{definition['type']} definition '{definition['key']}'" for definition in definitions)


def _tenants_named(definitions: list[dict]) -> str:
    return "; ".join(
        f"'{definition['key']}' for tenants "
        + ", ".join("(none)" if tenant is None else tenant for tenant in definition["tenantIds"])
        for definition in definitions
    )


def prerequisite_problems(entities: list[dict], verdict: CatalogVerdict) -> list[ImportProblem]:
    uses = list(definition_uses(entities))
    problems = [_missing(uses, verdict), _forbidden(uses, verdict)]
    if verdict.collection is not None:
        problems += [_out_of_scope(uses, verdict), _tenants_out_of_scope(uses, verdict)]
    return [problem for problem in problems if problem is not None]


def _missing(uses: list[DefinitionUse], verdict: CatalogVerdict) -> ImportProblem | None:
    failing, references = [], []
    for use in uses:
        check = verdict.check(use)
        tenants = use.definition["tenantIds"]
        missing_tenants = [tenant for tenant in tenants if tenant in check.missing_tenants]
        # A report whose own tenants all lack the definition is missing it, whatever other tenants hold.
        if not check.exists or (tenants and len(missing_tenants) == len(tenants)):
            references.append((use.key, use.definition["versions"], missing_tenants or tenants))
        elif use.definition["versions"] and not verdict.kept_versions(use):
            references.append((use.key, use.definition["versions"], tenants))
        else:
            continue
        failing.append(use)
    if not failing:
        return None
    definitions = _merged(references)
    return ImportProblem(
        ErrorCode.IMPORT_DEFINITION_DOES_NOT_EXIST,
        f"Could not import because these definitions do not exist in this installation: "
        f"{_named(definitions)}.",
        {"definitions": definitions, "entities": _summaries(failing)},
    )


def _forbidden(uses: list[DefinitionUse], verdict: CatalogVerdict) -> ImportProblem | None:
    failing = [use for use in uses if not verdict.check(use).authorized]
    if not failing:
        return None
    definitions = _merged([
        (use.key, list(verdict.check(use).ref.versions),
         list(verdict.check(use).forbidden_tenants or verdict.check(use).ref.tenant_ids))
        for use in failing])
    return ImportProblem(
        ErrorCode.IMPORT_DEFINITION_FORBIDDEN,
        f"The user is not authorized to access {_named(definitions)}.",
        {"definitions": definitions, "entities": _summaries(failing)},
    )


def _conflicted_collection(verdict: CatalogVerdict) -> list[dict]:
    collection = verdict.collection
    return [{"id": collection.id, "type": "collection", "name": collection.name}]


def _out_of_scope(uses: list[DefinitionUse], verdict: CatalogVerdict) -> ImportProblem | None:
    failing = [use for use in uses if verdict.check(use).in_scope is False]
    if not failing:
        return None
    definitions = _merged([(use.key, use.definition["versions"], use.definition["tenantIds"])
                           for use in failing])
    name = verdict.collection.name
    return ImportProblem(
        ErrorCode.NON_DEFINITION_SCOPE_COMPLIANT_CONFLICT,
        f"Collection '{name}' does not have {_named(definitions)} in its data sources.",
        {"conflictedItems": _conflicted_collection(verdict), "definitions": definitions,
         "entities": _summaries(failing)},
    )


def _tenants_out_of_scope(uses: list[DefinitionUse], verdict: CatalogVerdict) -> ImportProblem | None:
    failing, references = [], []
    for use in uses:
        check = verdict.check(use)
        if check.in_scope is False:
            continue
        outside = [tenant for tenant in use.definition["tenantIds"] if tenant in check.tenants_out_of_scope]
        if outside:
            failing.append(use)
            references.append((use.key, use.definition["versions"], outside))
    if not failing:
        return None
    definitions = _merged(references)
    name = verdict.collection.name
    return ImportProblem(
        ErrorCode.NON_TENANT_SCOPE_COMPLIANT_CONFLICT,
        f"Collection '{name}' does not have these tenants in its data sources: "
        f"{_tenants_named(definitions)}.",
        {"conflictedItems": _conflicted_collection(verdict), "definitions": definitions,
         "entities": _summaries(failing)},
    )
