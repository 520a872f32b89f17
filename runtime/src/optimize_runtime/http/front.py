"""The HTTP front every service runs behind: gunicorn's asyncio worker (`asgi`) reads each request
(head and body) in its event loop, and only a complete request is handed to a thread of the Flask (WSGI)
app, as a buffering proxy (nginx's `proxy_request_buffering`) would hand it on. A client that trickles its
headers or body costs a socket and a few kilobytes, never a thread: /readyz and imports keep being
answered. gunicorn's threaded worker gives each connection a thread as soon as a byte arrives and keeps
it while the client trickles; that is what a handful of slow clients used to starve.

Limits are checked before anything is buffered: a declared body over the largest any route takes is
refused from its Content-Length; a body that keeps coming past it, or a request whose head or body takes
longer than `read_timeout_s`, is refused and the connection closed. Every refusal here, and gunicorn's
own (431, 414, 400 on a bad request line), is a JSON error body with an errorCode."""

import asyncio
import json
import logging
import sys
import tempfile
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus
from urllib.parse import unquote_to_bytes

from gunicorn.asgi import protocol as gunicorn_protocol
from gunicorn.workers import gasgi

from contracts.errors import ErrorCode

log = logging.getLogger(__name__)

_SPOOL_IN_MEMORY_BYTES = 1024 * 1024  # a larger buffered body goes to a temporary file
_LINGER_S, _LINGER_MAX_BYTES = 2.0, 64 * 1024 * 1024
_CODES = {400: ErrorCode.BAD_REQUEST, 408: ErrorCode.REQUEST_TIMEOUT, 413: ErrorCode.PAYLOAD_TOO_LARGE,
          414: ErrorCode.URI_TOO_LONG, 431: ErrorCode.HEADERS_TOO_LARGE, 501: ErrorCode.NOT_IMPLEMENTED}


def error_body(status: int, detail: str, **extra) -> bytes:
    code = _CODES.get(status, ErrorCode.SERVER_ERROR if status >= 500 else ErrorCode.BAD_REQUEST)
    return json.dumps({"errorCode": code.value, "errorMessage": HTTPStatus(status).phrase,
                       "detailedMessage": detail, **extra}).encode()


class BufferedWsgi:
    """An ASGI app that serves a WSGI app with complete, buffered requests, on its own thread pool."""

    def __init__(self, wsgi_app: Callable, *, threads: int, max_body_bytes: int,
                 read_timeout_s: float) -> None:
        self.wsgi_app = wsgi_app
        self.max_body_bytes = max_body_bytes
        self.read_timeout_s = read_timeout_s
        self._threads = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="request")

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._http(scope, receive, send)

    async def _lifespan(self, receive: Callable, send: Callable) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self._threads.shutdown(wait=True)  # in-flight requests finish
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: dict, receive: Callable, send: Callable) -> None:
        headers = [(name.decode("latin-1").lower(), value.decode("latin-1"))
                   for name, value in scope["headers"]]
        declared = next((value for name, value in headers if name == "content-length"), None)
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            await _refuse(send, 413, f"The body of {declared} bytes is larger than any request here takes",
                          limit=self.max_body_bytes, actual=int(declared))
            await _drain(receive)
            return
        body = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY_BYTES)
        try:
            size = await self._buffer_body(receive, send, body)
            if size is None:
                return
            body.seek(0)
            environ = _environ(scope, headers, body, size)
            loop = asyncio.get_running_loop()
            status, response_headers, chunks, close = await loop.run_in_executor(self._threads, self._run,
                                                                                 environ)
        finally:
            body.close()
        await send({"type": "http.response.start", "status": status, "headers": response_headers})
        await send({"type": "http.response.body", "body": b"".join(chunks)})
        if close is not None:  # as WSGI servers do: the app's close() once the response is sent
            await loop.run_in_executor(self._threads, self._close, close)

    async def _buffer_body(self, receive: Callable, send: Callable, body) -> int | None:
        """Reads the whole body into `body` within the limits; its size, or None when refused or gone."""
        size = 0
        deadline = asyncio.get_running_loop().time() + self.read_timeout_s
        while True:
            remaining = deadline - asyncio.get_running_loop().time()
            try:
                message = await asyncio.wait_for(receive(), timeout=max(remaining, 0))
            except TimeoutError:
                await _refuse(send, 408, f"The body did not arrive within {self.read_timeout_s:g} s",
                              limit=self.read_timeout_s)
                return None
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                await _refuse(send, 413, "The body is larger than any request here takes",
                              limit=self.max_body_bytes, actual=size)
                await _drain(receive)
                return None
            body.write(chunk)
            if not message.get("more_body", False):
                return size

    def _run(self, environ: dict) -> tuple[int, list[tuple[bytes, bytes]], list[bytes], Callable | None]:
        try:
            return self._run_app(environ)
        except Exception:  # noqa: BLE001 - the app answers its own errors; this is what escaped it
            log.exception("the request could not be answered")
            body = error_body(500, "An unexpected error occurred; it has been logged")
            return 500, [(b"content-type", b"application/json")], [body], None

    def _run_app(self, environ: dict) -> tuple[int, list[tuple[bytes, bytes]], list[bytes], Callable | None]:
        """The app's answer, and its result's close() (None if it has none), for after the answer is sent:
        what the app lets go of then (an import's parsed file, say) is freed while the client reads."""
        started: list = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info=None):
            started[:] = [status, headers]
            return lambda data: chunks.append(data)

        chunks: list[bytes] = []
        result = self.wsgi_app(environ, start_response)
        close = getattr(result, "close", None)
        try:
            chunks.extend(result)
        except BaseException:
            if close is not None:
                close()
            raise
        status, headers = started
        encoded = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers]
        return int(status.split(" ", 1)[0]), encoded, chunks, close

    @staticmethod
    def _close(close: Callable) -> None:
        try:
            close()
        except Exception:  # noqa: BLE001 - the answer is sent; what failed after it is logged
            log.exception("closing a request's result failed after its answer was sent")


async def _refuse(send: Callable, status: int, detail: str, **extra) -> None:
    """An error answered before the app saw the request; the connection closes (the body stays unread)."""
    body = error_body(status, detail, **extra)
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()), (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


async def _drain(receive: Callable) -> None:
    """Reads and drops what the client is still sending, for a moment (a lingering close): a socket closed
    with unread data is reset, and the client would lose the answer it is about to read."""
    loop = asyncio.get_running_loop()
    deadline, dropped = loop.time() + _LINGER_S, 0
    while dropped < _LINGER_MAX_BYTES:
        try:
            message = await asyncio.wait_for(receive(), timeout=max(deadline - loop.time(), 0))
        except TimeoutError:
            return
        if message["type"] != "http.request" or not message.get("more_body", False):
            return
        dropped += len(message.get("body", b""))


def _environ(scope: dict, headers: Iterable[tuple[str, str]], body, size: int) -> dict:
    # PATH_INFO as WSGI has it: the percent-decoded bytes, as latin-1 (werkzeug decodes them itself).
    raw_path = scope.get("raw_path") or scope["path"].encode("utf-8")
    server = scope.get("server") or ("127.0.0.1", 80)
    client = scope.get("client") or ("", 0)
    environ = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": scope.get("root_path", "").encode("utf-8").decode("latin-1"),
        "PATH_INFO": unquote_to_bytes(raw_path.split(b"?", 1)[0]).decode("latin-1"),
        "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
        "SERVER_NAME": str(server[0]), "SERVER_PORT": str(server[1]),
        "REMOTE_ADDR": str(client[0]), "REMOTE_PORT": str(client[1]),
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "CONTENT_LENGTH": str(size),
        "wsgi.version": (1, 0), "wsgi.url_scheme": scope.get("scheme", "http"), "wsgi.input": body,
        "wsgi.errors": sys.stderr, "wsgi.multithread": True, "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for name, value in headers:
        if name == "content-type":
            environ["CONTENT_TYPE"] = value
        elif name != "content-length":
            key = "HTTP_" + name.upper().replace("-", "_")
            environ[key] = f"{environ[key]},{value}" if key in environ else value
    return environ


class JsonErrorProtocol(gunicorn_protocol.ASGIProtocol):
    """gunicorn's HTTP/1 protocol, answering its own refusals (431, 414, 400, 501) as JSON, and closing a
    connection whose request head has not arrived within the read timeout. Only the first head: on a
    kept-alive connection gunicorn's keep-alive timeout closes one whose next request does not come in
    time, and no timer of ours runs while the app answers (an import may take longer than the timeout)."""

    read_timeout_s = 30.0
    _head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._arm_head_timer()

    def _on_headers_complete(self):
        self._cancel_head_timer()
        return super()._on_headers_complete()

    def connection_lost(self, exc) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def _arm_head_timer(self) -> None:
        self._cancel_head_timer()
        self._head_timer = self.worker.loop.call_later(self.read_timeout_s, self._head_too_slow)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_too_slow(self) -> None:
        self._head_timer = None
        self._send_error_response(408, f"The request head did not arrive within {self.read_timeout_s:g} s")
        self._close_transport()

    def _send_error_response(self, status, message, extra_headers=()):
        body = error_body(status, str(message))
        extra = "".join(f"{name}: {value}\r\n" for name, value in extra_headers)
        head = (f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n{extra}Connection: close\r\n\r\n")
        self._safe_write(head.encode("latin-1"))
        self._safe_write(body)


class ServiceWorker(gasgi.ASGIWorker):
    """gunicorn's asyncio worker, with the JSON-answering protocol above."""

    def init_process(self) -> None:
        JsonErrorProtocol.read_timeout_s = float(getattr(self.app, "read_timeout_s", 30.0))
        gasgi.ASGIProtocol = JsonErrorProtocol  # the name gasgi's server factory builds protocols from
        super().init_process()
