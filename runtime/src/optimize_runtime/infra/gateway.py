"""The local gateway of `make run`: one origin for the three services, routing Optimize's paths as the
Kubernetes HTTPRoute does (deploy/k8s/base/httproute.yaml; a test keeps the two in step). A browser
reaches the console and every API through it, so no service needs CORS; in a cluster the Gateway plays
this part."""

import http.client
import json
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from contracts.errors import ErrorCode, ServiceError, service_unavailable

log = logging.getLogger("optimize.gateway")

_HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
                         "trailers", "transfer-encoding", "upgrade", "host", "content-length"})


@dataclass(frozen=True)
class RouteMatch:
    """One match of the HTTPRoute: a path (PathPrefix by path elements, Exact, or RegularExpression) and
    optionally a method."""

    path: str
    kind: str = "PathPrefix"
    method: str | None = None

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and method != self.method:
            return False
        if self.kind == "Exact":
            return path == self.path
        if self.kind == "RegularExpression":
            return re.fullmatch(self.path.strip("^$"), path) is not None
        return path == self.path or path.startswith(self.path.rstrip("/") + "/")


def _prefixes(*paths: str, method: str | None = None) -> list[RouteMatch]:
    return [RouteMatch(path, "PathPrefix", method) for path in paths]


# service -> matches, as in the HTTPRoute; the regular expression is checked before the catalog's
# PathPrefix /api/collection (the precedence the HTTPRoute asks of its implementation).
ROUTES: dict[str, list[RouteMatch]] = {
    "export": [
        *_prefixes("/api/export", "/api/public/export", "/console"),
        RouteMatch("/api/entities", "Exact"),
        *_prefixes("/api/report", "/api/dashboard", method="GET"),
        RouteMatch("^/api/collection/[^/]+/entities$", "RegularExpression", "GET"),
    ],
    "import": [
        *_prefixes("/api/import", "/api/public/import"),
        *[match for method in ("POST", "PUT", "DELETE")
          for match in _prefixes("/api/report", "/api/dashboard", method=method)],
    ],
    "catalog": _prefixes("/api/definition", "/api/collection", "/api/authorization"),
}


def route(method: str, path: str) -> str | None:
    """The service that serves this request, or None."""
    for service in ("export", "import", "catalog"):
        if any(match.matches(method, path) for match in ROUTES[service]):
            return service
    return None


class Gateway:
    """A WSGI app forwarding each request to the service its path belongs to."""

    def __init__(self, backends: dict[str, str], timeout_s: float = 120.0) -> None:
        self.backends = {name: urlsplit(url) for name, url in backends.items()}
        self.timeout_s = timeout_s

    def __call__(self, environ, start_response) -> Iterable[bytes]:
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO") or "/"
        if path in ("/", "/console"):
            return self._redirect(start_response, "/console/")
        if path == "/healthz":
            return self._json(start_response, 200, {"status": "alive"})
        if path == "/readyz":
            return self._readiness(start_response)
        service = route(method, path)
        if service is None:
            error = ServiceError(ErrorCode.NOT_FOUND, f"No service serves {method} {path}")
            return self._json(start_response, 404, error.body())
        return self._forward(service, environ, start_response)

    def _forward(self, service: str, environ, start_response) -> Iterable[bytes]:
        backend = self.backends[service]
        target = environ.get("PATH_INFO") or "/"
        if environ.get("QUERY_STRING"):
            target += "?" + environ["QUERY_STRING"]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else None
        headers = {key[5:].replace("_", "-").title(): value for key, value in environ.items()
                   if key.startswith("HTTP_") and key[5:].replace("_", "-").lower() not in _HOP_BY_HOP}
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        headers["X-Forwarded-Host"] = environ.get("HTTP_HOST", "")
        headers["X-Forwarded-For"] = environ.get("REMOTE_ADDR", "")
        connection = http.client.HTTPConnection(backend.hostname, backend.port, timeout=self.timeout_s)
        try:
            connection.request(environ["REQUEST_METHOD"], target, body=body, headers=headers)
            response = connection.getresponse()
            content = response.read()
        except OSError as error:
            log.warning("%s does not answer: %s", service, error)
            refusal = service_unavailable(f"The {service} service does not answer")
            return self._json(start_response, 503, refusal.body(), refusal.headers)
        finally:
            connection.close()
        passed = [(name, value) for name, value in response.getheaders() if name.lower() not in _HOP_BY_HOP]
        start_response(f"{response.status} {response.reason}",
                       [*passed, ("Content-Length", str(len(content)))])
        return [content]

    def _readiness(self, start_response) -> Iterable[bytes]:
        checks = {}
        for name, backend in self.backends.items():
            connection = http.client.HTTPConnection(backend.hostname, backend.port, timeout=10)
            try:
                connection.request("GET", "/readyz")
                checks[name] = "ok" if connection.getresponse().status == 200 else "not ready"
            except OSError as error:
                checks[name] = f"failed: {error}"
            finally:
                connection.close()
        if all(value == "ok" for value in checks.values()):
            return self._json(start_response, 200, {"status": "ready", "checks": checks})
        refusal = service_unavailable("Not ready: " + ", ".join(k for k, v in checks.items() if v != "ok"),
                                      checks=checks)
        return self._json(start_response, 503, refusal.body(), refusal.headers)

    @staticmethod
    def _json(start_response, status: int, body: dict, headers: dict | None = None) -> Iterable[bytes]:
        content = json.dumps(body).encode()
        reason = http.client.responses.get(status, "")
        start_response(f"{status} {reason}", [("Content-Type", "application/json"),
                                              ("Content-Length", str(len(content))),
                                              *(headers or {}).items()])
        return [content]

    @staticmethod
    def _redirect(start_response, location: str) -> Iterable[bytes]:
        start_response("302 Found", [("Location", location), ("Content-Length", "0")])
        return [b""]


# The services behind the gateway of `make run`: name, port variable, default port.
_LOCAL_BACKENDS = (("catalog", "OPTIMIZE_CATALOG_PORT", 8081), ("export", "OPTIMIZE_EXPORT_PORT", 8082),
                   ("import", "OPTIMIZE_IMPORT_PORT", 8083))
DEFAULT_GATEWAY_PORT = 8090  # where Optimize itself answers by default


def serve_local_gateway(environ: dict[str, str] | None = None) -> int:
    """`optimize-local gateway`: the gateway on OPTIMIZE_GATEWAY_PORT in front of the local services."""
    import os

    from optimize_runtime.http.serve import serve
    from optimize_runtime.observability import configure_logging

    env = os.environ if environ is None else environ
    backends = {name: f"http://127.0.0.1:{env.get(variable, str(port))}"
                for name, variable, port in _LOCAL_BACKENDS}
    configure_logging("gateway", env.get("OPTIMIZE_LOG_LEVEL", "INFO"),
                      env.get("OPTIMIZE_LOG_FORMAT", "json"))
    port = env.get("OPTIMIZE_GATEWAY_PORT", str(DEFAULT_GATEWAY_PORT))
    bind = f"{env.get('OPTIMIZE_HTTP_HOST', '127.0.0.1')}:{port}"
    serve(lambda: Gateway(backends), bind=bind, workers=1, threads=16,
          graceful_timeout=int(env.get("OPTIMIZE_GRACEFUL_TIMEOUT_S", "5")))
    return 0
