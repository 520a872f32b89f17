"""The body of an import request: its size limits, and JSON that cannot hurt the service."""

import hashlib
import json
from typing import Any

import orjson

from contracts.errors import ErrorCode, ServiceError
from contracts.json_limits import check_array_lengths, check_value_count
from import_svc.domain.importing.refusal import ImportRefused, file_invalid
from import_svc.domain.importing.spooled_file import SpooledEntities, SpooledFile, array_layout

# The body as it arrived: in memory, or (a large one) spooled to a temporary file.
ImportBody = bytes | bytearray | SpooledFile


def payload_too_large(limit: int, actual: int, unit: str) -> ServiceError:
    return ServiceError(ErrorCode.PAYLOAD_TOO_LARGE,
                        f"The import file has {actual} {unit}; this installation accepts at most {limit}.",
                        limit=limit, actual=actual, unit=unit)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


# orjson reads every JSON text exactly as the standard library does, but for integers beyond 64 bits (it
# reads them as floats, silently): a number of 19 digits or more goes the standard library's way.
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_NINETEEN_DIGITS = b"0" * 19


def _decoded(body: bytes, *, utf8_element: bool = False) -> Any:
    """The JSON value of the body: orjson where it reads what the standard library reads (several times
    faster, and without a str copy of the body), the standard library elsewhere and for every error, so
    that what is refused and the message saying why stay its own (it also reads UTF-16/32 and a BOM).
    `utf8_element`: one element of a top-level array of a UTF-8 body, read as that body would be."""
    if _NINETEEN_DIGITS not in body.translate(_DIGITS_AS_ZERO):
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            pass
    text = body.decode("utf-8", "surrogatepass") if utf8_element else body
    return json.loads(text, parse_constant=_no_constant)


def _decoded_element(element: bytes) -> Any:
    """One element of a top-level array, decoded as `_decoded` decodes a UTF-8 body."""
    return _decoded(element, utf8_element=True)


def unreadable(message: str) -> ImportRefused:
    return ImportRefused([file_invalid([{"entityId": None, "path": "", "message": message}])])


# Real export files hold about one JSON value per 100 bytes (Optimize's own: 761 in 84 kB), so a file at
# the 32 MiB limit has some 300,000; a body of a million tiny values is refused before it is parsed.
MAX_JSON_VALUES = 500_000


def parse_import_file(body: bytes, *, max_entities: int, max_values: int = MAX_JSON_VALUES,
                      check_arrays: bool = True) -> Any:
    """The JSON value of the body; refuses what is not JSON, a list longer than `max_entities`, more than
    `max_values` values and, inside an entity, an array longer than `contracts.json_limits` allows (unless
    not `check_arrays`: then the caller checks them, in a walk it makes anyway)."""
    if not body:
        raise unreadable("The request has no body; it should be an export file, a JSON array of entities.")
    check_value_count(body, max_values)
    try:
        data = _decoded(body)
    except RecursionError:
        raise unreadable("The import file is nested too deeply to be an export file.") from None
    except (UnicodeDecodeError, ValueError) as error:
        raise unreadable(f"The import file is not JSON: {error}") from None
    if isinstance(data, list) and len(data) > max_entities:
        raise payload_too_large(max_entities, len(data), "entities")
    if isinstance(data, list) and check_arrays:
        for entity in data:
            check_array_lengths(entity)
    return data


def body_digest(prefix: bytes, body: ImportBody) -> str:
    """sha256 of `prefix` and the body, read in chunks when spooled."""
    digest = hashlib.sha256(prefix)
    for chunk in body.chunks() if isinstance(body, SpooledFile) else (body,):
        digest.update(chunk)
    return digest.hexdigest()


def import_file_entities(body: ImportBody, *, max_entities: int, max_values: int = MAX_JSON_VALUES,
                         check_arrays: bool = True) -> Any:
    """The JSON value of the body, refused as `parse_import_file` refuses it. A body given as a bytearray
    is emptied once it is parsed. Of a spooled body that is an array: its entities, each parsed when read
    (the file is parsed once here, entity by entity, to be refused exactly as a whole body would be).
    Not `check_arrays`: the arrays of a body parsed whole (a list returned) are left to the caller."""
    if not isinstance(body, SpooledFile):
        data = parse_import_file(body, max_entities=max_entities, max_values=max_values,
                                 check_arrays=check_arrays)
        if isinstance(body, bytearray):
            body.clear()  # read: a large file's bytes are not kept while its entities are checked and written
        return data
    if not body.size:
        return parse_import_file(b"", max_entities=max_entities, max_values=max_values,
                                 check_arrays=check_arrays)
    elements = array_layout(body, max_values)
    if elements is None:
        return parse_import_file(body.read(), max_entities=max_entities, max_values=max_values,
                                 check_arrays=check_arrays)
    entities = SpooledEntities(body, elements, _decoded_element)
    too_long: ServiceError | None = None
    for position in range(len(entities)):
        element = entities.element(position)
        try:
            if not element:
                raise ValueError("no value between two commas")
            entity = _decoded_element(element)
        except (RecursionError, ValueError):  # not JSON: refused as the whole body is, with its message
            return parse_import_file(body.read(), max_entities=max_entities, max_values=max_values,
                                     check_arrays=check_arrays)
        if too_long is None:
            try:
                check_array_lengths(entity)
            except ServiceError as refusal:  # refused once the whole file is known to be JSON
                too_long = refusal
    if len(entities) > max_entities:
        raise payload_too_large(max_entities, len(entities), "entities")
    if too_long is not None:
        raise too_long
    return entities
