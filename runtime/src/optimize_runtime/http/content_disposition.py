"""Content-Disposition of a download as RFC 6266 writes it, with the file name of RFC 8187: an ASCII
fallback `filename="…"` for old clients and `filename*=UTF-8''…` with the exact name. A name that cannot
be a file name (empty, `.`/`..`, a path separator, a control or bidirectional-override character, bytes
that were not UTF-8, too long) is refused with badRequestError naming `fileName`."""

import unicodedata
from urllib.parse import quote

from contracts.errors import ErrorCode, ServiceError

MAX_FILE_NAME_BYTES = 255  # what common file systems take
_PATH_SEPARATORS = frozenset("/\\")
# Characters that reorder or hide what follows (U+202E made "gpj.exe" read "exe.jpg").
_BIDI_CONTROLS = frozenset("\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u061c")
_REPLACEMENT = "\ufffd"  # what the path decoding put where bytes were not UTF-8
# Kept as they are in the ASCII fallback; everything else becomes "_".
_FALLBACK_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                           " !#$&'()+,-.;=@[]^_`{}~")


def file_name_problem(name: str) -> str | None:
    """Why `name` cannot be the name of a downloaded file, or None."""
    if not name or name in (".", ".."):
        return "must not be empty, '.' or '..'"
    if len(name.encode("utf-8", "surrogatepass")) > MAX_FILE_NAME_BYTES:
        return f"must not be longer than {MAX_FILE_NAME_BYTES} bytes in UTF-8"
    for character in name:
        if character in _PATH_SEPARATORS:
            return "must not contain a path separator ('/' or '\\')"
        if character == _REPLACEMENT or unicodedata.category(character) == "Cs":
            return "must be valid UTF-8"
        if character in _BIDI_CONTROLS or unicodedata.category(character) in ("Cc", "Cf"):
            return f"must not contain control characters (U+{ord(character):04X})"
    return None


def attachment(name: str) -> str:
    """The Content-Disposition value of a download named `name` (refused when it cannot be one)."""
    problem = file_name_problem(name)
    if problem is not None:
        raise ServiceError(ErrorCode.BAD_REQUEST, f"The file name {problem}",
                           "Choose a plain file name such as 'report.json'",
                           validationErrors={"path": {"fileName": [f"The file name {problem}."]}})
    fallback = "".join(character if character in _FALLBACK_SAFE else "_" for character in name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"
