"""What a process asks MongoDB: the commands a client sends (pymongo command monitoring), and whether the
store answers a read by going through a whole collection."""

import json

from pymongo import monitoring
from pymongo.database import Database


class StoreCommands(monitoring.CommandListener):
    """Every command a MongoClient made with `event_listeners=[it]` sends, in order."""

    def __init__(self) -> None:
        self.sent: list[dict] = []

    @property
    def names(self) -> list[str]:
        return [command["name"] for command in self.sent]

    def clear(self) -> None:
        self.sent.clear()

    def started(self, event) -> None:
        self.sent.append({"name": event.command_name, "command": dict(event.command)})

    def succeeded(self, event) -> None:
        pass

    def failed(self, event) -> None:
        pass


def reads_whole_collection(db: Database, find: dict) -> bool:
    """Whether the store plans this `find` command as a walk through its whole collection: MongoDB's
    COLLSCAN, or the embedded server's (nx-27017, on SQLite) "SCAN <collection>"."""
    asked = {name: value for name, value in find.items() if name not in ("lsid", "$db", "$clusterTime")}
    plan = json.dumps(db.command({"explain": asked}).get("queryPlanner", {}), default=str)
    return "COLLSCAN" in plan or f'"SCAN {asked["find"]}"' in plan
