"""The docs page of every service works without internet: Swagger UI comes from a pinned package,
served by the service itself."""

import re

import pytest
from playwright.sync_api import expect


@pytest.mark.parametrize("service", ["catalog", "export", "import"])
def test_docs_page_loads_swagger_ui_from_the_service_itself(installation, service):
    client = installation.app(service).test_client()

    page = client.get("/docs").get_data(as_text=True)

    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert {asset.rsplit("/", 1)[1] for asset in assets} == {
        "swagger-ui.css", "swagger-ui-standalone-preset.js", "swagger-ui-bundle.js"}
    assert all(asset.startswith("/docs/assets/") for asset in assets), assets
    for asset in assets:
        response = client.get(asset)
        assert response.status_code == 200 and len(response.data) > 1000, asset


def test_docs_page_renders_the_operations_in_a_browser_without_internet(served, page):
    page.goto(f"{served.service_url('import')}/docs")

    expect(page.locator(".opblock").first).to_be_visible(timeout=30_000)
    paths = {text.replace("\u200b", "") for text in page.locator(".opblock-summary-path").all_inner_texts()}
    assert {"/api/import", "/api/public/import"} <= paths
    assert page.outside_requests == []
