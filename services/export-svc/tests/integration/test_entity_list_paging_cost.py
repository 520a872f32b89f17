"""A page of the entity lists costs what a page is: the MongoDB documents export-svc reads for a page of 10
out of 2,000 entities are counted (command monitoring), and bounded by the page, not the list."""

from datetime import timedelta

from pymongo import MongoClient, monitoring

from contracts.import_journal import PENDING_MARKER, PREVIOUS_VERSION
from export_svc.app import create_app
from export_svc.config import ExportConfig

TOTAL, PAGE, IN_PROGRESS = 2000, 10, 30


class DocumentCounter(monitoring.CommandListener):
    """The commands sent and the documents MongoDB returned in their cursors."""

    def __init__(self) -> None:
        self.commands: list[str] = []
        self.documents = 0

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.commands.append(event.command_name)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        cursor = event.reply.get("cursor") or {}
        self.documents += len(cursor.get("firstBatch", cursor.get("nextBatch", [])))
        self.documents += len(event.reply.get("values", []))  # distinct

    def failed(self, event) -> None:
        pass

    def reset(self) -> None:
        self.commands, self.documents = [], 0


def test_a_page_of_ten_reads_documents_in_proportion_to_the_page_not_the_list(
        installation, servers, names, catalog, author, new_collection):
    finance = new_collection()
    first = author.process_report("R", collection_id=finance)  # import-svc is up: the indexes are made
    client = MongoClient(servers.mongodb_uri, tz_aware=True)
    reports = client[names.entities_db]["reports"]
    model = reports.find_one({"_id": first})
    # 2,000 committed entities (three share each time: the id decides among them) and, newest of all, 30 of
    # an import still in progress, which nobody may see and the total does not count.
    clones = [{**model, "_id": f"r{index:04d}", "id": f"r{index:04d}",
               "lastModified": model["lastModified"] - timedelta(seconds=1 + index // 3)}
              for index in range(TOTAL - 1)]
    pending = [{**model, "_id": f"p{index:02d}", "id": f"p{index:02d}", "importId": "in-progress",
                PENDING_MARKER: "in-progress", "lastModified": model["lastModified"] + timedelta(seconds=1)}
               for index in range(IN_PROGRESS)]
    reports.insert_many(clones + pending)

    counter = DocumentCounter()
    counted = MongoClient(servers.mongodb_uri, tz_aware=True, event_listeners=[counter])
    installation.apps["export"] = create_app(ExportConfig.from_env(installation.environ), mongo=counted)
    expected = [first] + [clone["id"] for clone in clones]  # newest first, then id descending among equals
    expected[1:] = sorted(expected[1:], key=lambda i: (int(i[1:]) // 3, [-ord(c) for c in i]))
    for path in ("/api/entities", f"/api/collection/{finance}/entities"):
        seen, url = [], f"{path}?limit={PAGE}"
        for _ in range(3):
            counter.reset()
            response = installation.export.get(url, headers=installation.headers())
            assert response.status_code == 200 and response.headers["X-Total-Count"] == str(TOTAL)
            assert len(response.json) == PAGE
            seen += [entity["id"] for entity in response.json]
            # Before: every summary of the list for every page (2,030 documents, 23 commands); now 14 (80
            # on the first page, whose batches pass the 30 invisible ones).
            assert counter.documents <= 12 * (PAGE + 1), (path, counter.documents, counter.commands)
            assert len(counter.commands) <= 16, counter.commands
            url = f"{path}?limit={PAGE}&cursor={response.headers['X-Next-Cursor']}"
        assert seen == expected[:3 * PAGE]


def test_a_time_stored_as_text_is_paged_after_every_date_and_listed_once(
        installation, servers, names, catalog, author, new_collection):
    """nx-27017 stores a date given to `$set` as text (MongoDB keeps a date): MongoDB's order puts every
    text after every date, and the pages follow that order across both kinds."""
    finance = new_collection()
    made = [author.process_report(f"R{index}", collection_id=finance) for index in range(3)]
    reports = MongoClient(servers.mongodb_uri, tz_aware=True)[names.entities_db]["reports"]
    base = reports.find_one({"_id": made[0]})["lastModified"]
    for index, entity_id in enumerate(made):  # distinct times: made[2] the newest
        document = reports.find_one({"_id": entity_id})
        reports.replace_one({"_id": entity_id}, {**document, "lastModified": base + timedelta(seconds=index)})
    stored = base + timedelta(seconds=2)
    reports.update_one({"_id": made[2]}, {"$set": {"lastModified": stored}})
    as_text = isinstance(reports.find_one({"_id": made[2]})["lastModified"], str)
    for path in ("/api/entities", f"/api/collection/{finance}/entities"):
        seen, url = [], f"{path}?limit=1"
        while url:
            response = installation.export.get(url, headers=installation.headers())
            assert response.status_code == 200 and response.headers["X-Total-Count"] == "3"
            seen += [(entity["id"], entity["lastModified"]) for entity in response.json]
            cursor = response.headers.get("X-Next-Cursor")
            url = cursor and f"{path}?limit=1&cursor={cursor}"
        order = [made[1], made[0], made[2]] if as_text else made[::-1]
        assert [entity_id for entity_id, _ in seen] == order
        assert seen[-1 if as_text else 0][1] == stored.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"


def test_while_an_overwrite_runs_its_entities_show_their_old_version_once_and_new_ones_none(
        installation, servers, names, catalog, author, new_collection):
    """An overwriting import not yet committed: the entity it changed is listed once, in the version it
    replaced; an entity new in it is neither listed nor counted."""
    finance = new_collection()
    made = [author.process_report(f"R{index}", collection_id=finance) for index in range(3)]
    reports = MongoClient(servers.mongodb_uri, tz_aware=True)[names.entities_db]["reports"]
    old = reports.find_one({"_id": made[0]})
    newer = old["lastModified"] + timedelta(hours=1)
    running = {"importId": "running", PENDING_MARKER: "running", "lastModified": newer}
    reports.replace_one({"_id": made[0]}, {**old, **running, "name": "New", PREVIOUS_VERSION: old})
    reports.insert_one({**old, **running, "_id": "fresh", "id": "fresh"})
    for path in ("/api/entities", f"/api/collection/{finance}/entities"):
        seen, url = [], f"{path}?limit=1"
        while url:
            response = installation.export.get(url, headers=installation.headers())
            assert response.status_code == 200 and response.headers["X-Total-Count"] == "3"
            seen += [(entity["id"], entity["name"]) for entity in response.json]
            cursor = response.headers.get("X-Next-Cursor")
            url = cursor and f"{path}?limit=1&cursor={cursor}"
        assert sorted(seen) == sorted([(made[0], "R0"), (made[1], "R1"), (made[2], "R2")])
