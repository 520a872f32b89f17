"""The body of an import request: its size limits, and JSON that cannot hurt the service."""

import json
from typing import Any

from contracts.errors import ErrorCode, ServiceError
from import_svc.domain.importing.refusal import ImportRefused, file_invalid


def payload_too_large(limit: int, actual: int, unit: str) -> ServiceError:
    return ServiceError(ErrorCode.PAYLOAD_TOO_LARGE,
                        f"The import file has {actual} {unit}; this installation accepts at most {limit}.",
                        limit=limit, actual=actual, unit=unit)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def unreadable(message: str) -> ImportRefused:
    return ImportRefused([file_invalid([{"entityId": None, "path": "", "message": message}])])


def parse_import_file(body: bytes, *, max_entities: int) -> Any:
    """The JSON value of the body; refuses what is not JSON and a list longer than `max_entities`."""
    if not body:
        raise unreadable("The request has no body; it should be an export file, a JSON array of entities.")
    try:
        data = json.loads(body, parse_constant=_no_constant)
    except RecursionError:
        raise unreadable("The import file is nested too deeply to be an export file.") from None
    except (UnicodeDecodeError, ValueError) as error:
        raise unreadable(f"The import file is not JSON: {error}") from None
    if isinstance(data, list) and len(data) > max_entities:
        raise payload_too_large(max_entities, len(data), "entities")
    return data
