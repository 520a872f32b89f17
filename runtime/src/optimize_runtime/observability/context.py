"""Which request the current code works for: the request id and the user id that every log line and
every outgoing RPC carries. Flask requests are read from `flask.g`; anything else (the RPC worker) binds
them explicitly with `bound_request`."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from flask import g, has_request_context


@dataclass(frozen=True)
class RequestContext:
    request_id: str | None
    user_id: str | None = None


_bound: ContextVar[RequestContext | None] = ContextVar("optimize_request_context", default=None)


@contextmanager
def bound_request(request_id: str | None, user_id: str | None = None) -> Iterator[RequestContext]:
    context = RequestContext(request_id, user_id)
    token = _bound.set(context)
    try:
        yield context
    finally:
        _bound.reset(token)


def current_request_id() -> str | None:
    bound = _bound.get()
    if bound is not None:
        return bound.request_id
    if has_request_context():
        return g.get("request_id")
    return None


def current_user_id() -> str | None:
    bound = _bound.get()
    if bound is not None:
        return bound.user_id
    if has_request_context():
        identity = g.get("identity")
        return getattr(identity, "user_id", None)
    return None
