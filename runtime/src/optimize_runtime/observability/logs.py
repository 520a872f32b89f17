"""Logs as one JSON object per line (time, level, service, request id, user id, message), for a log
collector to parse; `OPTIMIZE_LOG_FORMAT=text` gives plain lines for people at a terminal."""

import json
import logging
import sys
from datetime import UTC, datetime

from optimize_runtime.observability.context import current_request_id, current_user_id

# Attributes every LogRecord has; anything else was passed with `extra=` and is logged as a field.
_RECORD_ATTRIBUTES = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}


class JsonLogFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "message": record.getMessage(),
            "requestId": current_request_id(),
            "userId": current_user_id(),
            "pid": record.process,
        }
        for key, value in record.__dict__.items():
            if key not in _RECORD_ATTRIBUTES and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class TextLogFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__(f"%(asctime)s %(levelname)s {service} [%(process)d] %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        request = current_request_id()
        return f"{line} (request {request})" if request else line


def configure_logging(service: str, level: str = "INFO", log_format: str = "json") -> None:
    """One handler on the root logger, to stderr; gunicorn's loggers propagate to it (see http.serve)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(TextLogFormatter(service) if log_format == "text" else JsonLogFormatter(service))
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # pika logs every connection step at INFO; its warnings are what an operator needs.
    logging.getLogger("pika").setLevel(max(root.level, logging.WARNING))
