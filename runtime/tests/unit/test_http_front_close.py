"""The HTTP front calls a WSGI result's close() once the answer is sent, as WSGI servers do: what the app
frees then (an import's documents) is freed while the client reads, not before it gets its answer."""

import asyncio

from optimize_runtime.http.front import BufferedWsgi


class Result:
    def __init__(self, events: list[str], chunks: list[bytes], fail_on_close: bool = False) -> None:
        self.events, self.chunks, self.fail_on_close = events, chunks, fail_on_close

    def __iter__(self):
        yield from self.chunks

    def close(self) -> None:
        self.events.append("closed")
        if self.fail_on_close:
            raise RuntimeError("close failed")


def serve(app) -> list[str]:
    events: list[str] = []
    front = BufferedWsgi(lambda environ, start_response: app(events, start_response), threads=2,
                         max_body_bytes=1024, read_timeout_s=5)
    scope = {"type": "http", "method": "GET", "path": "/", "raw_path": b"/", "query_string": b"",
             "headers": [], "http_version": "1.1", "scheme": "http"}
    messages = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive():
        return messages.pop(0)

    async def send(message):
        events.append(f"sent {message['type']}" + (f" {message['status']}" if "status" in message else ""))

    asyncio.run(front(scope, receive, send))
    return events


def test_the_result_is_closed_after_the_answer_is_sent():
    def app(events, start_response):
        start_response("200 OK", [("Content-Type", "application/json")])
        return Result(events, [b"[]"])

    assert serve(app) == ["sent http.response.start 200", "sent http.response.body", "closed"]


def test_a_close_that_fails_after_the_answer_is_logged_and_the_answer_stands(caplog):
    def app(events, start_response):
        start_response("200 OK", [("Content-Type", "application/json")])
        return Result(events, [b"[]"], fail_on_close=True)

    assert serve(app) == ["sent http.response.start 200", "sent http.response.body", "closed"]
    assert "closing a request's result failed after its answer was sent" in caplog.text


def test_a_result_that_fails_while_read_is_closed_before_the_500_is_sent():
    class Failing(Result):
        def __iter__(self):
            raise RuntimeError("broken body")

    def app(events, start_response):
        start_response("200 OK", [("Content-Type", "application/json")])
        return Failing(events, [])

    assert serve(app) == ["closed", "sent http.response.start 500", "sent http.response.body"]
