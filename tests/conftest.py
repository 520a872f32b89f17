"""Installations reached over real HTTP: each service's app served on its own loopback port, and the
local gateway in front of them, as a person or another service reaches them."""

import threading
from dataclasses import dataclass, field

import pytest
from werkzeug.serving import make_server

from optimize_runtime.identity import issue_token
from optimize_runtime.infra.gateway import Gateway
from optimize_testing.installation import Installation, start_installation
from optimize_testing.pytest_plugin import TEST_JWT_SECRET, isolated_names


class ServedApp:
    """A WSGI app on a free loopback port, answered by threads, until `stop`."""

    def __init__(self, app) -> None:
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


@dataclass
class ServedInstallation:
    installation: Installation
    served: dict[str, ServedApp] = field(default_factory=dict)

    @property
    def url(self) -> str:
        """The gateway: one origin for every service."""
        return self.served["gateway"].url

    def service_url(self, service: str) -> str:
        return self.served[service].url

    def token(self, user: str = "demo", groups: list[str] | None = None) -> str:
        return issue_token(TEST_JWT_SECRET, user, groups)

    def stop(self) -> None:
        for app in self.served.values():
            app.stop()
        self.installation.close()


def serve_installation(servers, label: str) -> ServedInstallation:
    installation = start_installation(servers, isolated_names(label))
    served = ServedInstallation(installation)
    for service in ("catalog", "export", "import"):
        served.served[service] = ServedApp(installation.app(service))
    served.served["gateway"] = ServedApp(Gateway({name: served.served[name].url
                                                  for name in ("catalog", "export", "import")}))
    return served


@pytest.fixture
def served(servers):
    installation = serve_installation(servers, "h")
    yield installation
    installation.stop()


@pytest.fixture
def served_pair(servers):
    a, b = serve_installation(servers, "ha"), serve_installation(servers, "hb")
    yield a, b
    a.stop()
    b.stop()


@pytest.fixture
def serve_wsgi():
    """Serve a WSGI app on a free loopback port for the test: `serve_wsgi(app).url`."""
    started: list[ServedApp] = []

    def serve(app) -> ServedApp:
        started.append(ServedApp(app))
        return started[-1]

    yield serve
    for app in started:
        app.stop()


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium (Debian's, installed when missing), shared by the browser tests."""
    from optimize_testing.browser import headless_chromium

    with headless_chromium() as running:
        yield running


@pytest.fixture
def page(browser):
    """A fresh browser context and page that may load only from this machine: anything else (a CDN) is
    refused and recorded in `page.outside_requests`."""
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.outside_requests = []

    def only_loopback(route):
        url = route.request.url
        if url.startswith(("http://127.0.0.1:", "blob:", "data:")):
            route.continue_()
        else:
            page.outside_requests.append(url)
            route.abort()

    page.route("**/*", only_loopback)
    yield page
    context.close()
