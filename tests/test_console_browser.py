"""The console in headless Chromium, as a person uses it: import the real Optimize file into a
collection (dry-run preview, then the import), see the entities listed, export one and compare the
download, and see a refused import name the missing definition. Nothing loads from outside the machine."""

import json
import os
from pathlib import Path

from playwright.sync_api import expect

from optimize_client import OptimizeClient
from optimize_testing.pytest_plugin import REAL_OPTIMIZE_EXPORT

NASA = "NasaImageProcessing"
# Set to a folder (docs/img) to keep the screenshots the README shows.
SCREENSHOTS = os.environ.get("SCREENSHOTS_DIR")


def screenshot(page, tmp_path: Path, name: str) -> None:
    folder = Path(SCREENSHOTS) if SCREENSHOTS else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / name), full_page=True)


def nasa_collection(client: OptimizeClient) -> str:
    client.register_definitions([{"type": "process", "key": NASA, "name": NASA, "version": "1",
                                  "tenantId": None}])
    client.grant_authorizations([{"identity": {"id": "demo", "type": "user"}, "definitionType": "process",
                                  "definitionKey": "*", "tenants": [None]}])
    collection_id = client.create_collection("Mars missions")["id"]
    client.add_scope(collection_id, [{"definitionType": "process", "definitionKey": NASA, "tenants": [None]}])
    return collection_id


def test_console_imports_into_a_collection_lists_exports_and_names_what_a_refusal_misses(served, page,
                                                                                         tmp_path):
    client = OptimizeClient(served.url, token=served.token())
    collection_id = nasa_collection(client)
    file_names = [entity["name"] for entity in json.loads(REAL_OPTIMIZE_EXPORT.read_text())]

    page.goto(f"{served.url}/console/#collection={collection_id}")
    page.fill("#token", served.token())
    page.click("#sign-in button")
    expect(page.locator("#place-title")).to_have_text("Collection: Mars missions")
    expect(page.locator("#empty")).to_be_visible()

    page.set_input_files("#import-file", str(REAL_OPTIMIZE_EXPORT))
    expect(page.locator("#preview")).to_be_visible()
    expect(page.locator("#preview-title")).to_contain_text("Import 7 entities")
    expect(page.locator("#preview tbody tr")).to_have_count(7)
    assert client.entities(collection_id) == [], "the preview is a dry run"
    page.click("#confirm-import")

    expect(page.locator("#notice")).to_contain_text('Imported 7 entities from carbon-reductor-dashboard.json '
                                                    'into collection "Mars missions"')
    expect(page.locator("#entities tbody tr")).to_have_count(7)
    assert sorted(page.locator("#entities td.name").all_inner_texts()) == sorted(file_names)
    screenshot(page, tmp_path, "console-after-import.png")

    dashboard = page.locator('#entities tr[data-entity-type="dashboard"]')
    dashboard_id = dashboard.get_attribute("data-entity-id")
    with page.expect_download() as download:
        dashboard.get_by_role("button", name="Export").click()
    downloaded = json.loads(Path(download.value.path()).read_text())
    assert downloaded == client.export_dashboard(dashboard_id)
    assert [entity["exportEntityType"] for entity in downloaded][-1] == "dashboard" and len(downloaded) == 7

    client.delete_definition("process", NASA)
    page.set_input_files("#import-file", str(REAL_OPTIMIZE_EXPORT))

    error = page.locator("#error")
    expect(error).to_be_visible()
    expect(error.locator("h3")).to_have_text(
        'carbon-reductor-dashboard.json cannot be imported into collection "Mars missions"')
    named = error.locator('[data-error-code="importDefinitionDoesNotExist"] li')
    expect(named.first).to_have_text(f"process definition {NASA} (versions: all; tenants: no tenant)")
    expect(named).to_have_count(7)  # the definition, then the six reports that read it
    assert all(f'"{name}"' in text for name, text in zip(file_names[:6], named.all_inner_texts()[1:],
                                                          strict=True))
    expect(page.locator("#preview")).to_be_hidden()
    expect(page.locator("#entities tbody tr")).to_have_count(7)
    screenshot(page, tmp_path, "console-refused.png")
    assert page.outside_requests == []


def test_console_without_a_token_asks_to_sign_in(served, page):
    page.goto(f"{served.url}/console/")
    expect(page.locator("#error h3")).to_have_text("Sign in first")

    page.fill("#token", "not-a-token")
    page.click("#sign-in button")
    expect(page.locator("#error")).to_contain_text("Sign in with a valid token")
