"""The console page: plain HTML, CSS and JavaScript for a person, calling Optimize's paths on the same
origin (the gateway in front of the services). Static files, no build step; not part of the API."""

from pathlib import Path

from flask import Blueprint, redirect, send_from_directory

CONSOLE_FILES = Path(__file__).resolve().parents[1] / "console"

blueprint = Blueprint("console", __name__)


@blueprint.get("/console")
def console_root():
    return redirect("/console/")


@blueprint.get("/console/")
def console_page():
    return send_from_directory(CONSOLE_FILES, "index.html", max_age=0)


@blueprint.get("/console/<path:file_name>")
def console_file(file_name: str):
    return send_from_directory(CONSOLE_FILES, file_name, max_age=0)
