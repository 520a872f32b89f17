"""JSON request bodies as every service reads them. A body nested too deeply, holding NaN or Infinity, a
number beyond 64 bits or a lone surrogate is refused as badRequestError naming where: Python's parser
accepts all of these, and they ended as a 500 when parsed or stored."""

import json
from typing import Any, NoReturn

import flask_smorest
from flask import Request
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request

from contracts.errors import ErrorCode, ServiceError
from contracts.export_file.json_path import json_path
from contracts.export_file.structure import Location, too_deep_at, unstorable_values
from contracts.export_file.versions import MAX_NESTING_DEPTH
from contracts.json_limits import DEFAULT_MAX_VALUES, check_array_lengths, check_value_count

_TOO_DEEP = f"Nested deeper than {MAX_NESTING_DEPTH} levels."
_MAX_NAMED = 100  # a hostile body may hold millions of bad values; the first ones say enough


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value.")


def _refuse(problems: list[tuple[Location, str]]) -> NoReturn:
    named: dict[str, list[str]] = {}
    for location, message in problems[:_MAX_NAMED]:
        named.setdefault(json_path(location) or "_schema", []).append(message)
    first_path, first_messages = next(iter(named.items()))
    where = "" if first_path == "_schema" else f" at {first_path}"
    raise ServiceError(ErrorCode.BAD_REQUEST, f"The request body is invalid{where}: {first_messages[0]}",
                       "The request body or arguments are invalid; see validationErrors",
                       validationErrors={"json": named})


class RequestBodyParser(FlaskParser):
    """webargs' parser, reading JSON bodies strictly (decoding errors are answered as webargs does)."""

    def _raw_load_json(self, req: Request) -> Any:
        if not is_json_request(req):
            return core.missing
        body = req.get_data(cache=True)
        check_value_count(body, DEFAULT_MAX_VALUES)  # before anything is parsed
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as error:
            raise json.JSONDecodeError(f"Bytes decoding error : {error.reason}", doc=str(error.object),
                                       pos=error.start) from error
        try:
            value = json.loads(text, parse_constant=_no_constant)
        except json.JSONDecodeError:
            raise
        except RecursionError:
            _refuse([((), _TOO_DEEP)])
        except ValueError as error:
            _refuse([((), str(error))])
        too_deep = too_deep_at(value)
        if too_deep is not None:
            _refuse([(too_deep, _TOO_DEEP)])
        check_array_lengths(value)
        problems = unstorable_values(value)
        if problems:
            _refuse(problems)
        return value


def json_body() -> Any:
    """The request's JSON body, read as strictly as every parsed body (None when there is none)."""
    from flask import request

    value = RequestBodyParser()._raw_load_json(request)
    return None if value is core.missing else value


class Blueprint(flask_smorest.Blueprint):
    """The Blueprint every service's API uses: flask-smorest's, with strict JSON bodies."""

    ARGUMENTS_PARSER = RequestBodyParser()
