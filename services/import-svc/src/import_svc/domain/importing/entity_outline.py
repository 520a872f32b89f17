"""What the checks of an import read of an entity: everything but its bulky content (a report's
configuration with its BPMN XML, its filters and views; a dashboard's tile configurations), so that the
entities of a large file can all be checked without holding the file."""

from contracts.export_file.structure import json_copy

# The fields every check reads: the envelope, the names, the flags Optimize refuses, the variable filters.
_FIELDS = ("id", "exportEntityType", "name", "description", "sourceIndexVersion", "collectionId",
           "instantPreviewDashboard", "availableFilters")
# Of a report's data: the definitions it reads, its flags, and (combined) the reports it holds.
_DATA_FIELDS = ("definitions", "managementReport", "instantPreviewReport", "reports")


def entity_outline(entity: dict) -> dict:
    """The entity (upgraded, possibly invalid) with only what the checks read; a dashboard's tiles keep
    their ids, which name the reports it shows. An entity whose data or tiles are of the wrong type is
    refused for it already; the outline leaves them out."""
    outline = {name: entity[name] for name in _FIELDS if name in entity}
    data = entity.get("data")
    if isinstance(data, dict):
        outline["data"] = {name: data[name] for name in _DATA_FIELDS if name in data}
        if isinstance(data.get("reports"), list):  # rewritten in place in the entity when it is written
            outline["data"]["reports"] = json_copy(data["reports"])
    tiles = entity.get("tiles")
    if isinstance(tiles, list):
        outline["tiles"] = [{"id": tile.get("id")} if isinstance(tile, dict) else None for tile in tiles]
    return outline
