"""One MongoClient per process, made after gunicorn forks."""

from pymongo import MongoClient

from optimize_runtime.settings import CommonSettings
from optimize_runtime.store.write_gate import WriteGate, write_gate_for


def mongo_client(settings: CommonSettings) -> MongoClient:
    return MongoClient(settings.mongodb_uri, appname=settings.service, serverSelectionTimeoutMS=3000,
                       connectTimeoutMS=3000, tz_aware=True)


def write_gate(settings: CommonSettings) -> WriteGate:
    return write_gate_for(settings.mongodb_embedded, settings.data_dir, settings.mongodb_uri)


def ping(client: MongoClient) -> None:
    client.admin.command("ping")
