"""Collections are written only over the revision they were read at, so concurrent changes are not lost."""

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from catalog_svc.adapters.mongo_catalog import StaleCollection
from catalog_svc.bootstrap import wire
from catalog_svc.config import CatalogConfig
from catalog_svc.domain.collections import new_collection
from catalog_svc.domain.model import User


@pytest.fixture
def wiring(environ):
    wired = wire(CatalogConfig.from_env(environ))
    yield wired
    wired.mongo.close()


def test_a_change_decided_on_a_stale_read_is_refused(wiring):
    wiring.collections.add(new_collection("c1", "Sales", User("bob"), datetime.now(UTC)))
    first_read, second_read = wiring.collections.get("c1"), wiring.collections.get("c1")
    wiring.collections.save(replace(first_read, name="First"))
    with pytest.raises(StaleCollection):
        wiring.collections.save(replace(second_read, name="Second"))
    assert wiring.collections.get("c1").name == "First"
