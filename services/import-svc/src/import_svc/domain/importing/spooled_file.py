"""A large import file, spooled to a temporary file as it arrives and read from there entity by entity:
the worker never holds its bytes, nor all of its entities, at once.

The file is split into the elements of its top-level array by one scan over 256 KiB chunks (strings are
skipped by a regular expression, at C speed; one that crosses a chunk is read again with a chunk twice
its size, so no input makes the scan quadratic), which also counts its JSON values as
`contracts.json_limits.value_count` counts them in the whole body. Each element is then parsed on its
own, as the whole body would be. A file that is not plainly a UTF-8 array of valid elements within the
limits (another encoding, a syntax error, a single object, too many values...) is read whole instead,
so that what is refused and the message saying why are the in-memory path's own.
"""

import json
import os
import re
import tempfile
import time
from collections.abc import Iterator, Sequence
from typing import Any

_CHUNK_BYTES = 256 * 1024
SPOOL_PREFIX = "optimize-import-spool-"
# A spool file has a name only for the instant between making and unlinking it (where O_TMPFILE is missing):
# one older than this was left by a process killed in that instant.
_LEFTOVER_AFTER_S = 60
_WHITESPACE = b" \t\n\r"
# A complete string, or one byte of structure; a lone quote starts a string that goes on in the next chunk.
_TOKEN = re.compile(rb'"[^"\\]*+(?:\\.[^"\\]*+)*+"|[\[\]{},"]')
_OPENING, _CLOSING, _COMMA, _QUOTE, _ARRAY_OPENING, _ARRAY_CLOSING = (
    frozenset(b"[{"), frozenset(b"]}"), ord(","), ord('"'), ord("["), ord("]"))


class SpooledFile:
    """The bytes of an import file in a temporary file (deleted when closed).

    The file never has a name in the temporary directory (`TMPDIR`): on Linux it is made with O_TMPFILE,
    elsewhere unlinked right after it is made. So a worker killed by SIGKILL leaves nothing on disk: the
    kernel frees the file with the process's last descriptor (`remove_leftover_spools` covers the instant
    of the fallback)."""

    def __init__(self, directory: str | None = None) -> None:
        self._file = tempfile.TemporaryFile(prefix=SPOOL_PREFIX, dir=directory)
        self.size = 0

    def __enter__(self) -> "SpooledFile":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        self._file.close()

    def write(self, chunk: bytes) -> None:
        self._file.write(chunk)
        self.size += len(chunk)

    def chunks(self, start: int = 0, size: int = _CHUNK_BYTES) -> Iterator[bytes]:
        self._file.seek(start)
        while chunk := self._file.read(size):
            yield chunk

    def read(self, start: int = 0, end: int | None = None) -> bytes:
        self._file.seek(start)
        return self._file.read(-1 if end is None else end - start)


def remove_leftover_spools(directory: str | None = None, older_than_s: float = _LEFTOVER_AFTER_S) -> int:
    """Removes spool files a killed process left with a name (see `SpooledFile`); how many."""
    directory = directory or tempfile.gettempdir()
    removed, now = 0, time.time()
    try:
        entries = [entry for entry in os.scandir(directory)
                   if entry.name.startswith(SPOOL_PREFIX) and entry.is_file(follow_symlinks=False)]
    except OSError:
        return 0
    for entry in entries:
        try:
            if now - entry.stat(follow_symlinks=False).st_mtime > older_than_s:
                os.unlink(entry.path)
                removed += 1
        except OSError:  # gone meanwhile, or another user's
            pass
    return removed


def array_layout(file: SpooledFile, max_values: int) -> list[tuple[int, int]] | None:
    """Where each element of the file's top-level array lies, as the offsets of the brackets or commas
    around it; None when the file is not a top-level array whose elements (and only whitespace between
    them) can be parsed one by one, or holds more than `max_values` JSON values as `value_count` counts
    them: the whole body tells then what is wrong with it."""
    scan = _ArrayScan(max_values)
    carry, offset, read_size = b"", 0, _CHUNK_BYTES
    source = file.chunks()
    while chunk := next(source, b""):
        buffer = carry + chunk if carry else chunk
        used = scan.read(buffer, offset)
        if used is None:
            return None
        carry, offset = buffer[used:], offset + used
        if len(carry) >= read_size // 2:  # a long string: read on in larger chunks, never rescanning much
            read_size = 2 * len(carry) + _CHUNK_BYTES
            source = file.chunks(offset + len(carry), read_size)
    return None if carry else scan.elements(file)  # carry: a string without its end


class _ArrayScan:
    """Follows the nesting of brackets outside strings, recording the top-level array's separators and
    counting values as `value_count` does (one per comma, bracket or brace)."""

    def __init__(self, max_values: int) -> None:
        self.depth = 0
        self.separators: list[int] = []  # the opening bracket, each top-level comma, the closing bracket
        self.values_left = max_values - 1

    def read(self, part: bytes, offset: int) -> int | None:
        """How much of `part` (at `offset` in the file) was read: up to a string that goes on in the next
        part, else all of it; None when the file is no plain array or has too many values."""
        depth, separators, values_left = self.depth, self.separators, self.values_left
        for match in _TOKEN.finditer(part):
            start = match.start()
            token = part[start]
            if token == _QUOTE:
                if match.end() - start == 1:
                    self.depth, self.values_left = depth, values_left
                    return start
                continue
            if token not in _CLOSING:
                values_left -= 1
                if values_left < 0:
                    return None
            if token in _OPENING:
                if depth == 0:
                    if separators or token != _ARRAY_OPENING:
                        return None  # a second value, or an object
                    separators.append(offset + start)
                depth += 1
            elif token in _CLOSING:
                depth -= 1
                if depth == 0:
                    if token != _ARRAY_CLOSING:
                        return None
                    separators.append(offset + start)
                elif depth < 0:
                    return None
            elif depth == 1:  # a comma between elements
                separators.append(offset + start)
        self.depth, self.values_left = depth, values_left
        return len(part)

    def elements(self, file: SpooledFile) -> list[tuple[int, int]] | None:
        separators = self.separators
        if self.depth != 0 or len(separators) < 2:
            return None
        if file.read(0, separators[0]).strip(_WHITESPACE) or json.detect_encoding(file.read(0, 4)) != "utf-8":
            return None
        if any(chunk.strip(_WHITESPACE) for chunk in file.chunks(separators[-1] + 1)):
            return None
        if len(separators) == 2 and not file.read(separators[0] + 1, separators[1]).strip(_WHITESPACE):
            return []  # an empty array
        return list(zip(separators, separators[1:], strict=False))


class SpooledEntities(Sequence):
    """The entities of a spooled file that is a top-level array, each parsed again when asked for."""

    def __init__(self, file: SpooledFile, elements: list[tuple[int, int]], decoded) -> None:
        self._file = file
        self._elements = elements
        self._decoded = decoded

    def __len__(self) -> int:
        return len(self._elements)

    def __getitem__(self, position: int) -> Any:  # type: ignore[override]
        return self._decoded(self.element(position))

    def element(self, position: int) -> bytes:
        """The bytes of one element, without the whitespace around it (empty: none between two commas)."""
        start, end = self._elements[position]
        return self._file.read(start + 1, end).strip(_WHITESPACE)
