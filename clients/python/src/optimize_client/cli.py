"""optimize-transfer: move reports and dashboards between Optimize installations.

\b
Exit codes (scripts may rely on them):
  0  done
  1  failed otherwise (an unexpected answer, a file that cannot be read)
  2  refused with problems: the installation refused the request (or `check`
     found problems); every problem is printed, definitions and entities named
  3  unreachable: no answer, or still 503 (service unavailable) after the retries
  4  not authenticated: the token is missing or not accepted
  64 wrong usage of the command
"""

import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from optimize_client.check import FileCheck, check_file
from optimize_client.client import ImportedEntity, OptimizeClient, merged_export
from optimize_client.errors import ApiError, NotAuthenticated, OptimizeError, ServiceUnavailable, Unreachable


class PlainTable(Table):
    """A table whose cells are plain text: names like "Carbon [gCO2/kWh]" are not read as markup."""

    def add_row(self, *cells, **kwargs) -> None:
        super().add_row(*(Text(str(cell)) for cell in cells), **kwargs)


EXIT_OK, EXIT_FAILED, EXIT_REFUSED, EXIT_UNREACHABLE, EXIT_NOT_AUTHENTICATED, EXIT_USAGE = 0, 1, 2, 3, 4, 64


class Refused(Exception):
    """A command's own finding that ends it with exit code 2 (e.g. `check` found problems)."""


@dataclass
class Output:
    """Where results (stdout) and progress (stderr) go; --json makes stdout one JSON document."""

    as_json: bool
    out: Console
    err: Console

    @classmethod
    def make(cls, as_json: bool) -> "Output":
        out = Console(width=None if sys.stdout.isatty() else 160, soft_wrap=as_json)
        err = Console(stderr=True, width=None if sys.stderr.isatty() else 160)
        return cls(as_json, out, err)

    def result(self, data: Any, render: Callable[[], None]) -> None:
        if self.as_json:
            click.echo(json.dumps(data, indent=2, default=str))
        else:
            render()

    @contextmanager
    def step(self, description: str, total: int | None = None) -> Iterator[Callable[[int], None]]:
        """A progress bar on a terminal; elsewhere a line when the step starts and one when it ends."""
        started = time.monotonic()
        if self.err.is_terminal:
            with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                          TextColumn("{task.completed}/{task.total}" if total else ""), TimeElapsedColumn(),
                          console=self.err) as progress:
                task = progress.add_task(description, total=total)
                yield lambda n=1: progress.advance(task, n)
                progress.update(task, total=total or 1, completed=total or 1)
        else:
            self.err.print(f"{description} ...", highlight=False)
            yield lambda n=1: None
            self.err.print(f"{description}: done in {time.monotonic() - started:.1f} s", highlight=False)


@dataclass(frozen=True)
class ImportOptions:
    """How an import is made: into which collection, whether only as a dry run, and the import mode
    (None: the installation's default; the services define the modes)."""

    collection_id: str | None = None
    dry_run: bool = False
    mode: str | None = None
    overwrite_modified: bool = False

    def but(self, **changes) -> "ImportOptions":
        return replace(self, **changes)


MODES = ("newCopies", "overwrite")


def mode_options(command):
    for option in reversed([
        click.option("--mode", type=click.Choice(MODES), default=None,
                     help="newCopies (the default): every entity becomes a new copy. overwrite: update "
                          "what an earlier import of the same entities made in the same collection (or your "
                          "private entities), keeping its id"),
        click.option("--overwrite-modified", is_flag=True,
                     help="With --mode overwrite: also replace entities changed in the target since their "
                          "import (otherwise the import is refused naming them)"),
    ]):
        command = option(command)
    return command


def client_options(prefix: str = "", env_prefix: str = "OPTIMIZE_", what: str = "the installation"):
    """--url/--token (and per-service URLs) for one installation, from flags or the environment."""
    def decorate(command):
        options = [
            click.option(f"--{prefix}url", f"{prefix.replace('-', '_')}url", envvar=f"{env_prefix}URL",
                         help=f"Base URL of {what} (its gateway), e.g. http://127.0.0.1:8090 "
                              f"[{env_prefix}URL]"),
            click.option(f"--{prefix}token", f"{prefix.replace('-', '_')}token", envvar=f"{env_prefix}TOKEN",
                         help=f"Bearer token for {what} [{env_prefix}TOKEN]"),
        ]
        if not prefix:
            options += [click.option(f"--{service}-url", f"{service}_url",
                                     envvar=f"OPTIMIZE_{service.upper()}_URL",
                                     help=f"URL of the {service} service, instead of --url")
                        for service in ("catalog", "export", "import")]
        for option in reversed(options):
            command = option(command)
        return command
    return decorate


def make_client(ctx: click.Context, url, token, catalog_url=None, export_url=None, import_url=None,
                what: str = "--url") -> OptimizeClient:
    try:
        return OptimizeClient(url, token=token or "", catalog_url=catalog_url, export_url=export_url,
                              import_url=import_url, timeout_s=ctx.obj["timeout"])
    except ValueError as error:
        raise click.UsageError(f"{error} ({what} or the environment)") from error


@click.group(help=__doc__, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--json", "as_json", is_flag=True, help="Results as JSON on stdout, for scripts")
@click.option("--timeout", type=float, default=60.0, envvar="OPTIMIZE_TIMEOUT_S", show_default=True,
              help="Seconds to wait for an answer [OPTIMIZE_TIMEOUT_S]")
@click.pass_context
def cli(ctx: click.Context, as_json: bool, timeout: float) -> None:
    ctx.obj = {"output": Output.make(as_json), "timeout": timeout}


# --- export ------------------------------------------------------------------------------------------

def export_file(client: OptimizeClient, output: Output, reports, dashboards, collection) -> list[dict]:
    if collection:
        with output.step(f"Exporting collection {collection}"):
            return client.export_collection(collection)
    files: list[list[dict]] = []
    with output.step("Exporting", total=len(reports) + len(dashboards)) as advance:
        for export, ids in ((client.export_report, reports), (client.export_dashboard, dashboards)):
            for entity_id in ids:
                files.append(export(entity_id))
                advance(1)
    return merged_export(files)


def selection_options(command):
    for option in reversed([
        click.option("--report", "reports", multiple=True, help="A report id (repeatable)"),
        click.option("--dashboard", "dashboards", multiple=True, help="A dashboard id (repeatable)"),
        click.option("--collection", help="A whole collection, by id"),
    ]):
        command = option(command)
    return command


def require_selection(reports, dashboards, collection) -> None:
    if bool(collection) == bool(reports or dashboards):
        raise click.UsageError("Name what to move: --report/--dashboard ids, or one --collection")


@cli.command("export")
@client_options()
@selection_options
@click.option("-o", "--output", "target", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The export file to write")
@click.pass_context
def export_command(ctx, url, token, catalog_url, export_url, import_url, reports, dashboards, collection,
                   target: Path) -> None:
    """Export reports and dashboards, or a whole collection, to one file."""
    require_selection(reports, dashboards, collection)
    output: Output = ctx.obj["output"]
    client = make_client(ctx, url, token, catalog_url, export_url, import_url)
    entities = export_file(client, output, reports, dashboards, collection)
    target.write_text(json.dumps(entities, indent=2, ensure_ascii=False))
    output.result({"file": str(target), "entities": [_summary(e) for e in entities]},
                  lambda: output.out.print(entity_table(entities, f"Exported to {target}")))


# --- import ------------------------------------------------------------------------------------------

def run_import(client: OptimizeClient, output: Output, file: bytes | list[dict],
               options: ImportOptions) -> list[ImportedEntity]:
    where = f"into collection {options.collection_id}" if options.collection_id else "privately"
    label = "Dry run of the import" if options.dry_run else "Importing"
    with output.step(f"{label} {where}"):
        return client.import_file(file, collection_id=options.collection_id, dry_run=options.dry_run,
                                  mode=options.mode, overwrite_modified=options.overwrite_modified)


@cli.command("import")
@client_options()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--collection", help="Import into this collection (else privately)")
@click.option("--dry-run", is_flag=True, help="Check everything and show what would happen, writing nothing")
@mode_options
@click.pass_context
def import_command(ctx, url, token, catalog_url, export_url, import_url, file: Path, collection, dry_run,
                   mode, overwrite_modified):
    """Import an export file into an installation, privately or into a collection."""
    output: Output = ctx.obj["output"]
    client = make_client(ctx, url, token, catalog_url, export_url, import_url)
    imported = run_import(client, output, file.read_bytes(),
                          ImportOptions(collection, dry_run, mode, overwrite_modified))
    title = _dry_run_title(imported) if dry_run else "Imported"
    output.result([_imported_json(item) for item in imported],
                  lambda: output.out.print(imported_table(imported, title)))


# --- copy --------------------------------------------------------------------------------------------

@cli.command("copy")
@client_options("from-", "OPTIMIZE_FROM_", "the source installation")
@client_options("to-", "OPTIMIZE_TO_", "the target installation")
@selection_options
@click.option("--into", "into_collection", help="Import into this collection of the target (else privately)")
@click.option("--dry-run", is_flag=True, help="Stop after the dry run: show what would happen")
@mode_options
@click.pass_context
def copy_command(ctx, from_url, from_token, to_url, to_token, reports, dashboards, collection,
                 into_collection, dry_run, mode, overwrite_modified):
    """Copy reports and dashboards (or a collection's) from one installation to another: export, a dry run
    on the target that prints every problem, then the import."""
    require_selection(reports, dashboards, collection)
    output: Output = ctx.obj["output"]
    source = make_client(ctx, from_url, from_token, what="--from-url")
    target = make_client(ctx, to_url, to_token, what="--to-url")
    entities = export_file(source, output, reports, dashboards, collection)
    output.err.print(f"Exported {len(entities)} entities from {from_url}", highlight=False)
    options = ImportOptions(into_collection, mode=mode, overwrite_modified=overwrite_modified)
    preview = run_import(target, output, entities, options.but(dry_run=True))
    if dry_run:
        output.result({"exported": len(entities), "dryRun": [_imported_json(item) for item in preview]},
                      lambda: output.out.print(imported_table(preview, _dry_run_title(preview))))
        return
    imported = run_import(target, output, entities, options)
    output.result({"exported": len(entities), "imported": [_imported_json(item) for item in imported]},
                  lambda: output.out.print(imported_table(imported, f"Copied to {to_url}")))


# --- check -------------------------------------------------------------------------------------------

@cli.command("check")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def check_command(ctx, file: Path):
    """Validate an export file offline: what an import would upgrade or drop, the definitions the target
    needs, and every problem."""
    output: Output = ctx.obj["output"]
    checked = check_file(file)
    output.result(checked.as_json(), lambda: render_check(output.out, checked))
    if not checked.ok:
        raise Refused()


def render_check(console: Console, checked: FileCheck) -> None:
    table = PlainTable(title="Entities", title_justify="left")
    for column in ("id", "type", "name", "version", "upgrade drops or renames"):
        table.add_column(column, overflow="fold")
    for entity in checked.entities:
        version = (f"{entity.version} -> {entity.current_version}" if entity.upgraded
                   else f"{entity.version} (current)"
                   if entity.version is not None and entity.version == entity.current_version
                   else str(entity.version))
        table.add_row(str(entity.id), str(entity.export_entity_type), str(entity.name), version,
                      ", ".join(entity.dropped) or "-")
    console.print(table)
    if checked.definitions:
        console.print(definitions_table(checked.definitions, "Definitions the target must have"))
    if checked.ok:
        console.print("[green]The file can be imported[/] (given those definitions in the target).")
        return
    console.print(problems_table({"errors": [
        *([{"errorCode": "importFileInvalid", "validationErrors": checked.validation_errors}]
          if checked.validation_errors else []),
        *([{"errorCode": "importIndexVersionMismatch", "mismatchingIndices": checked.mismatching_indices}]
          if checked.mismatching_indices else []),
    ]}, "The file cannot be imported"))


# --- list --------------------------------------------------------------------------------------------

@cli.command("list")
@client_options()
@click.option("--collection", help="The entities of this collection (else every entity you see)")
@click.option("--page-size", type=click.IntRange(1, 10000), help="Entities asked per request")
@click.pass_context
def list_command(ctx, url, token, catalog_url, export_url, import_url, collection, page_size):
    """List the reports and dashboards you see (or those of one collection)."""
    output: Output = ctx.obj["output"]
    client = make_client(ctx, url, token, catalog_url, export_url, import_url)
    entities: list[dict] = []
    with output.step("Reading the entity list") as advance:
        for page in client.entity_pages(collection, limit=page_size):
            entities.extend(page.items)
            advance(len(page.items))
    output.result(entities, lambda: output.out.print(entity_table(entities, "Entities")))


# --- rendering ---------------------------------------------------------------------------------------

def _summary(entity: dict) -> dict:
    return {key: entity.get(key) for key in ("id", "exportEntityType", "name", "collectionId")}


def _imported_json(item: ImportedEntity) -> dict:
    answer = {"id": item.id, "entityType": item.entity_type, "sourceId": item.source_id,
              "upgradedFrom": item.upgraded_from, "warnings": item.warnings}
    if item.action is not None:
        answer["action"] = item.action
    return answer


def _dry_run_title(items: list[ImportedEntity]) -> str:
    return "Dry run: the import would do" if any(item.action for item in items) else \
        "Dry run: the import would create"


def _actions(items: list[ImportedEntity]) -> str:
    counts: dict[str, int] = {}
    for item in items:
        counts[item.action or "created"] = counts.get(item.action or "created", 0) + 1
    return ", ".join(f"{action} {count}" for action, count in counts.items())


def entity_table(entities: list[dict], title: str) -> Table:
    table = PlainTable(title=title, title_justify="left")
    for column in ("id", "type", "name", "collection"):
        table.add_column(column, overflow="fold")
    for entity in entities:
        kind = entity.get("exportEntityType") or " ".join(
            str(part) for part in (entity.get("entityType"), entity.get("reportType") and
                                   f"({entity['reportType']})") if part)
        table.add_row(str(entity.get("id")), str(kind), str(entity.get("name")),
                      str(entity.get("collectionId") or "-"))
    return table


def imported_table(items: list[ImportedEntity], title: str) -> Table:
    """What an import did or would do; with the action of each entity when the import said it
    (mode=overwrite)."""
    with_action = any(item.action for item in items)
    counted = f"{len(items)} entities: {_actions(items)}" if with_action else f"{len(items)} entities"
    table = PlainTable(title=f"{title} ({counted})", title_justify="left")
    columns = ("type", "id in the file", "action", "id", "upgraded from", "warnings") if with_action else \
        ("type", "id in the file", "new id", "upgraded from", "warnings")
    for column in columns:
        table.add_column(column, overflow="fold")
    for item in items:
        cells = [item.entity_type, item.source_id, *([item.action or "-"] if with_action else []),
                 item.id or "(dry run)", str(item.upgraded_from) if item.upgraded_from is not None else "-",
                 "; ".join(item.warnings) or "-"]
        table.add_row(*cells)
    return table


def definitions_table(definitions: list[dict], title: str) -> Table:
    table = PlainTable(title=title, title_justify="left")
    for column in ("type", "key", "versions", "tenants"):
        table.add_column(column, overflow="fold")
    for definition in definitions:
        table.add_row(str(definition.get("type")), str(definition.get("key")),
                      ", ".join(map(str, definition.get("versions") or [])) or "-",
                      _tenants(definition.get("tenantIds")))
    return table


def _tenants(tenant_ids: list | None) -> str:
    return ", ".join("(none)" if tenant is None else str(tenant) for tenant in tenant_ids or []) or "-"


def problem_rows(category: dict) -> list[tuple[str, str]]:
    """(what is concerned, detail) for every item a refusal category names."""
    rows = []
    for definition in category.get("definitions") or []:
        versions = ", ".join(map(str, definition.get("versions") or [])) or "-"
        tenants = _tenants(definition.get("tenantIds"))
        rows.append((f"{definition.get('type')} definition {definition.get('key')}",
                     f"versions {versions}; tenants {tenants}"))
    for problem in category.get("validationErrors") or []:
        rows.append((f"entity {problem.get('entityId')}", f"{problem.get('path') or '(file)'}: "
                                                          f"{problem.get('message')}"))
    for index in category.get("mismatchingIndices") or []:
        rows.append((str(index.get("indexName")),
                     f"file version {index.get('sourceIndexVersion')}, this installation reads up to "
                     f"{index.get('targetIndexVersion')}"))
    for item in category.get("conflictedItems") or []:
        changed = (f", changed by {item.get('lastModifier')} at {item.get('lastModified')}"
                   if item.get("lastModifier") else "")
        rows.append((f"{item.get('type')} {item.get('name')}", f"id {item.get('id')}{changed}"))
    for entity in category.get("entities") or []:
        if isinstance(entity, dict):
            rows.append((f"{entity.get('exportEntityType') or 'entity'} \"{entity.get('name')}\"",
                         f"id {entity.get('id')}"))
        else:
            rows.append(("entity", str(entity)))
    return rows


def problems_table(body: dict, title: str = "The import is refused") -> Table:
    table = PlainTable(title=title, title_justify="left", show_lines=True)
    for column in ("problem", "concerns", "detail"):
        table.add_column(column, overflow="fold")
    for category in body.get("errors") or [body]:
        code = str(category.get("errorCode"))
        rows = problem_rows(category) or [("", "")]
        message = category.get("errorMessage")
        for concerns, detail in rows:
            table.add_row(code, concerns, detail or (message or ""))
    return table


# --- entry point -------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    as_json = "--json" in (sys.argv[1:] if argv is None else argv)
    output = Output.make(as_json)
    try:
        cli.main(args=argv, prog_name="optimize-transfer", standalone_mode=False)
        return EXIT_OK
    except click.UsageError as error:
        error.show()
        return EXIT_USAGE
    except click.ClickException as error:
        error.show()
        return EXIT_FAILED
    except click.Abort:
        output.err.print("Aborted.")
        return EXIT_FAILED
    except Refused:
        return EXIT_REFUSED
    except NotAuthenticated as error:
        _report_api_error(output, error)
        return EXIT_NOT_AUTHENTICATED
    except ServiceUnavailable as error:
        _report_api_error(output, error)
        return EXIT_UNREACHABLE
    except Unreachable as error:
        message = str(error)
        output.result({"errorCode": "unreachable", "errorMessage": message},
                      lambda: output.err.print(Text(f"Unreachable: {message}", style="red")))
        return EXIT_UNREACHABLE
    except ApiError as error:
        _report_api_error(output, error)
        return EXIT_REFUSED if 400 <= error.status < 500 else EXIT_FAILED
    except (OptimizeError, OSError) as error:
        output.err.print(f"[red]Failed:[/] {error}", highlight=False)
        return EXIT_FAILED


def _report_api_error(output: Output, error: ApiError) -> None:
    def render() -> None:
        output.err.print(f"[red]{error.error_code}[/] (HTTP {error.status}): {error.error_message}",
                         highlight=False)
        if error.request_id:
            output.err.print(f"request id: {error.request_id}", highlight=False)
        if problem_rows(error.body) or len(error.errors) > 1:
            output.out.print(problems_table(error.body))

    output.result({"status": error.status, **error.body}, render)


if __name__ == "__main__":
    sys.exit(main())
