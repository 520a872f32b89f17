"""Events about imports; a broker that does not take one never undoes or fails a committed import."""

import logging

from optimize_runtime.messaging import EventPublisher

log = logging.getLogger(__name__)


class ImportEvents:
    def __init__(self, publisher: EventPublisher) -> None:
        self._publisher = publisher

    def publish(self, event: dict) -> None:
        try:
            self._publisher.publish(event)
        except Exception:  # noqa: BLE001 - the import's outcome stands whatever the broker does
            log.exception("event %s (%s) was not published", event.get("eventId"), event.get("type"))
