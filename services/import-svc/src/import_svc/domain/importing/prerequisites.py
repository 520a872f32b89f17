"""The catalog's verdict on a file's definitions, and the problems it makes: definitions missing in the
target, forbidden to the user, or outside the target collection's scope (keys or tenants)."""

from collections.abc import Iterator
from dataclasses import dataclass, field

from contracts.errors import ErrorCode
from import_svc.domain.importing.refusal import ImportProblem

DEFINITION_TYPE_OF = {"single_process_report": "process", "single_decision_report": "decision"}
EDITING_ROLES = ("editor", "manager")

DefinitionKey = tuple[str, str]
# (type, key, versions, tenants): one definition exactly as a report reads it.
ReferenceKey = tuple[str, str, tuple[str, ...], tuple[str | None, ...]]


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
    def reference(self) -> ReferenceKey:
        return reference_key(self.type, self.definition)


def reference_key(definition_type: str, definition: dict) -> ReferenceKey:
    return (definition_type, definition["key"], tuple(definition["versions"]),
            tuple(definition["tenantIds"]))


def definition_uses(entities: list[dict]) -> Iterator[DefinitionUse]:
    for entity in entities:
        definition_type = DEFINITION_TYPE_OF.get(entity.get("exportEntityType"))
        if definition_type is None:
            continue
        for definition in entity["data"]["definitions"]:
            yield DefinitionUse(entity, definition_type, definition)


def check_import_params(user: dict, collection_id: str | None, entities: list[dict],
                        check_authorization: bool) -> dict:
    """The one `check_import` request that answers the whole file: each distinct reference once, so that
    every report is judged (and gets the XML) for its own versions and tenants, as in Optimize."""
    references = {use.reference: None for use in definition_uses(entities)}
    definitions = [{"type": definition_type, "key": key, "versions": list(versions),
                    "tenantIds": list(tenants)} for definition_type, key, versions, tenants in references]
    return {"user": user, "collectionId": collection_id, "definitions": definitions,
            "checkAuthorization": check_authorization}


@dataclass
class CatalogVerdict:
    """What `check_import` answered: the collection (or None) and one check per reference."""

    collection: dict | None = None
    checks: dict[ReferenceKey, dict] = field(default_factory=dict)

    @classmethod
    def from_result(cls, result: dict) -> "CatalogVerdict":
        return cls(result.get("collection"),
                   {reference_key(check["type"], check): check for check in result["definitions"]})

    def check(self, use: DefinitionUse) -> dict:
        # A definition the catalog did not answer for is one it does not know.
        return self.checks.get(use.reference) or {
            "type": use.type, "key": use.definition["key"], "versions": [], "tenantIds": [],
            "exists": False, "authorized": True, "missingVersions": []}

    def kept_versions(self, use: DefinitionUse) -> list[str]:
        """The listed versions that exist in the target (`all` and `latest` do when any version does)."""
        missing = set(self.check(use).get("missingVersions") or [])
        return [version for version in use.definition["versions"] if version not in missing]

    def xml_of(self, use: DefinitionUse) -> str | None:
        """The target's XML of the latest existing version this use lists."""
        return self.check(use).get("xml")


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
        missing_tenants = [tenant for tenant in tenants if tenant in (check.get("missingTenants") or [])]
        # A report whose own tenants all lack the definition is missing it, whatever other tenants hold.
        if not check["exists"] or (tenants and len(missing_tenants) == len(tenants)):
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
    failing = [use for use in uses if not verdict.check(use)["authorized"]]
    if not failing:
        return None
    definitions = _merged([
        (use.key, verdict.check(use)["versions"],
         verdict.check(use).get("forbiddenTenants") or verdict.check(use)["tenantIds"])
        for use in failing])
    return ImportProblem(
        ErrorCode.IMPORT_DEFINITION_FORBIDDEN,
        f"The user is not authorized to access {_named(definitions)}.",
        {"definitions": definitions, "entities": _summaries(failing)},
    )


def _conflicted_collection(verdict: CatalogVerdict) -> list[dict]:
    collection = verdict.collection
    return [{"id": collection["id"], "type": "collection", "name": collection.get("name")}]


def _out_of_scope(uses: list[DefinitionUse], verdict: CatalogVerdict) -> ImportProblem | None:
    failing = [use for use in uses if verdict.check(use).get("inScope") is False]
    if not failing:
        return None
    definitions = _merged([(use.key, use.definition["versions"], use.definition["tenantIds"])
                           for use in failing])
    name = verdict.collection.get("name")
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
        if check.get("inScope") is False:
            continue
        outside = [tenant for tenant in use.definition["tenantIds"]
                   if tenant in (check.get("tenantsOutOfScope") or [])]
        if outside:
            failing.append(use)
            references.append((use.key, use.definition["versions"], outside))
    if not failing:
        return None
    definitions = _merged(references)
    name = verdict.collection.get("name")
    return ImportProblem(
        ErrorCode.NON_TENANT_SCOPE_COMPLIANT_CONFLICT,
        f"Collection '{name}' does not have these tenants in its data sources: "
        f"{_tenants_named(definitions)}.",
        {"conflictedItems": _conflicted_collection(verdict), "definitions": definitions,
         "entities": _summaries(failing)},
    )
