"""The import and export prerequisites with Optimize's tenant and version semantics, on plain values."""

from datetime import UTC, datetime

import pytest

from catalog_svc.domain.model import (
    Authorization,
    Collection,
    Definition,
    DefinitionRef,
    IdentityRef,
    RoleEntry,
    ScopeEntry,
    User,
)
from catalog_svc.domain.prerequisites import check_export, check_import

NOW = datetime(2024, 5, 1, tzinfo=UTC)
ALICE = User("alice", frozenset({"analysts"}))


def deployed(*definitions: Definition) -> dict:
    result: dict = {}
    for d in definitions:
        result.setdefault((d.type, d.key), []).append(d)
    return result


def ref(key="invoice", versions=("1",), tenants=(None,), definition_type="process") -> DefinitionRef:
    return DefinitionRef(definition_type, key, tuple(versions), tuple(tenants))


ALICE_ID = IdentityRef("user", "alice")


def grant(key="*", tenants=(None,), identity=ALICE_ID, definition_type="process"):
    return Authorization(identity, definition_type, key, tuple(tenants))


EVERYTHING = (grant(key="*", tenants=("*",)),)


def collection(*scope: ScopeEntry, roles=()) -> Collection:
    return Collection("c1", "Sales", "bob", NOW, NOW, "bob", tuple(scope), tuple(roles))


def verdict(reference, deployments, authorizations=EVERYTHING, **kwargs):
    return check_import(ALICE, [reference], deployments, authorizations, **kwargs).definitions[0]


SHARED_V1 = Definition("process", "invoice", "1", None, "Invoice")


def test_a_null_tenant_is_the_not_defined_tenant():
    only_t1 = deployed(Definition("process", "invoice", "1", "t1"))
    assert verdict(ref(tenants=(None,)), only_t1).exists is False
    assert verdict(ref(tenants=()), only_t1).exists is False  # no tenants listed means the null tenant
    assert verdict(ref(tenants=(None,)), deployed(SHARED_V1)).exists is True


def test_a_shared_definition_satisfies_any_tenant():
    result = verdict(ref(tenants=("t1", "t2")), deployed(SHARED_V1))
    assert result.exists is True
    assert result.missing_tenants == ()


def test_tenants_are_not_pruned_one_tenant_having_it_is_enough():
    only_t1 = deployed(Definition("process", "invoice", "1", "t1"))
    both = verdict(ref(tenants=("t1", "t2")), only_t1)
    assert both.exists is True and both.missing_tenants == ("t2",)
    alone = verdict(ref(tenants=("t2",)), only_t1)
    assert alone.exists is False and alone.missing_tenants == ("t2",)


def test_missing_versions_are_reported_and_the_reference_exists_while_one_version_does():
    result = verdict(ref(versions=("1", "7")), deployed(SHARED_V1))
    assert result.exists is True
    assert result.existing_versions == ("1",)
    assert result.missing_versions == ("7",)
    none_exists = verdict(ref(versions=("6", "7")), deployed(SHARED_V1))
    assert none_exists.exists is False and none_exists.missing_versions == ("6", "7")


@pytest.mark.parametrize("version", ["all", "latest", "ALL"])
def test_all_and_latest_need_any_version(version):
    assert verdict(ref(versions=(version,)), deployed(SHARED_V1)).existing_versions == (version,)
    assert verdict(ref(versions=(version,)), {}).exists is False


def test_versions_of_another_tenant_do_not_count():
    other_tenant = deployed(Definition("process", "invoice", "2", "t9"))
    result = verdict(ref(versions=("2",), tenants=("t1",)), other_tenant)
    assert result.exists is False


def test_the_xml_is_that_of_the_latest_existing_listed_version_preferring_a_listed_tenant():
    deployments = deployed(
        Definition("process", "invoice", "1", None, has_xml=True),
        Definition("process", "invoice", "2", None, has_xml=True),
        Definition("process", "invoice", "2", "t1", has_xml=True),
        Definition("process", "invoice", "10", "t1", has_xml=True),
    )
    assert verdict(ref(versions=("1", "2", "3"), tenants=("t1",)), deployments).xml_source.tenant_id == "t1"
    assert verdict(ref(versions=("1", "2"), tenants=(None,)), deployments).xml_source.version == "2"
    assert verdict(ref(versions=("latest",), tenants=("t1",)), deployments).xml_source.version == "10"
    no_xml = deployed(Definition("process", "invoice", "1", None, has_xml=False))
    assert verdict(ref(), no_xml).xml_source is None


def test_authorization_through_a_group_counts():
    group_grant = grant(key="invoice", identity=IdentityRef("group", "analysts"))
    assert verdict(ref(), deployed(SHARED_V1), [group_grant]).authorized is True
    other_group = grant(key="invoice", identity=IdentityRef("group", "sales"))
    assert verdict(ref(), deployed(SHARED_V1), [other_group]).authorized is False


def test_a_star_authorization_covers_every_key_of_its_type_only():
    star = grant(key="*")
    assert verdict(ref(key="anything"), {}, [star]).authorized is True
    assert verdict(ref(key="anything", definition_type="decision"), {}, [star]).authorized is False


def test_every_tenant_of_the_reference_needs_authorization():
    result = verdict(ref(tenants=("t1", "t2")), deployed(SHARED_V1), [grant(key="invoice", tenants=("t1",))])
    assert result.authorized is False
    assert result.forbidden_tenants == ("t2",)


def test_superusers_are_not_exempt_from_definition_authorization():
    root = User("root", superuser=True)
    check = check_import(root, [ref()], deployed(SHARED_V1), [])
    assert check.definitions[0].authorized is False


def test_without_authorization_check_everything_is_authorized():
    check = check_import(ALICE, [ref()], deployed(SHARED_V1), [], check_authorization=False)
    assert check.definitions[0].authorized is True
    assert check.forbidden == ()


def test_a_forbidden_key_is_reported_once_with_its_tenants():
    refs = [ref(versions=("1",), tenants=("t1",)), ref(versions=("2",), tenants=("t1", "t2")), ref(key="ok")]
    check = check_import(ALICE, refs, {}, [grant(key="ok")])
    assert [(f.key, f.tenant_ids) for f in check.forbidden] == [("invoice", ("t1", "t2"))]


def test_a_key_outside_the_collection_scope():
    scoped = collection(ScopeEntry("process", "other", (None,)))
    result = verdict(ref(), deployed(SHARED_V1), collection_id="c1", collection=scoped)
    assert result.in_scope is False


def test_a_tenant_outside_the_scope_of_a_covered_key():
    scoped = collection(ScopeEntry("process", "invoice", (None, "t1")))
    result = verdict(ref(tenants=("t1", "t2")), deployed(SHARED_V1), collection_id="c1", collection=scoped)
    assert result.in_scope is True
    assert result.tenants_out_of_scope == ("t2",)


def test_a_key_in_scope_but_absent_from_the_catalog_is_in_scope_and_missing():
    scoped = collection(ScopeEntry("process", "invoice", (None,)))
    result = verdict(ref(), {}, collection_id="c1", collection=scoped)
    assert (result.in_scope, result.exists) == (True, False)


def test_the_collection_access_names_the_users_highest_role():
    scoped = collection(
        roles=(
            RoleEntry(IdentityRef("user", "alice"), "viewer"),
            RoleEntry(IdentityRef("group", "analysts"), "editor"),
        )
    )
    check = check_import(ALICE, [], {}, [], collection_id="c1", collection=scoped)
    access = check.collection
    assert (access.exists, access.name, access.role) == (True, "Sales", "editor")
    unknown = check_import(ALICE, [ref()], {}, [], collection_id="nope", collection=None)
    assert unknown.collection.exists is False
    assert unknown.definitions[0].in_scope is None


def test_check_export_reports_forbidden_definitions_once_per_key():
    refs = [ref(tenants=("t1",)), ref(tenants=("t2",)), ref(key="ok")]
    check = check_export(ALICE, refs, [grant(key="ok"), grant(key="invoice", tenants=("t1",))])
    assert [v.authorized for v in check.definitions] == [True, False, True]
    assert [(f.key, f.tenant_ids) for f in check.forbidden] == [("invoice", ("t2",))]


def test_the_variables_of_a_reference_are_those_of_every_deployment_it_reads():
    """As Optimize's ProcessVariableNameRequestDto asks them: by key, listed versions and tenants. A
    deployment without variables recorded makes the reference's variables unknown (None)."""
    from contracts.catalog_rpc import ProcessVariable

    amount, late = ProcessVariable("amount", "Double"), ProcessVariable("late", "Boolean")
    deployments = deployed(Definition("process", "invoice", "1", None, variables=(amount,)),
                           Definition("process", "invoice", "2", None, variables=(amount, late)),
                           Definition("process", "invoice", "3", None))
    verdicts = check_import(ALICE, [ref(versions=("1",)), ref(versions=("1", "2")), ref(versions=("all",)),
                                    ref(versions=("3",))], deployments, [grant()]).definitions
    assert [v.variables for v in verdicts] == [(amount,), (amount, late), None, None]
