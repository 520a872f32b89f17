"""The deployment files, checked offline: the Kubernetes overlays render and validate, hold no secret value
and run every pod safely; the compose file parses; every variable they set is one a service reads (and
every required one is set); the Dockerfile copies what exists and runs declared console scripts."""

import re
import shutil
import subprocess
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from catalog_svc.config import CatalogConfig
from export_svc.config import ExportConfig
from import_svc.config import ImportConfig
from optimize_runtime.settings import ConfigurationError

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
OVERLAYS = ("dev", "prod")
CORE_API_GROUPS = ("v1", "apps/v1", "autoscaling/v2", "policy/v1", "networking.k8s.io/v1")
CONFIG_OF_SCRIPT = {"catalog-svc": CatalogConfig, "export-svc": ExportConfig, "import-svc": ImportConfig}
# What a Secret reference stands for when the configuration is loaded here.
SECRET_PLACEHOLDER = "value-from-a-secret"


class RecordingEnviron(Mapping):
    """An environment that remembers which variables the configuration asked for."""

    def __init__(self, values: Mapping[str, str]):
        self.values = dict(values)
        self.read: set[str] = set()

    def __getitem__(self, key: str) -> str:
        self.read.add(key)
        return self.values[key]

    def __contains__(self, key: object) -> bool:
        self.read.add(str(key))
        return key in self.values

    def __iter__(self) -> Iterator[str]:
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)


def configuration_problems(script: str, environ: Mapping[str, str]) -> list[str]:
    """What is wrong with running `script` in `environ`: variables no configuration reads, and the
    refusal of the configuration itself when a required variable is missing."""
    recording = RecordingEnviron(environ)
    try:
        CONFIG_OF_SCRIPT[script].from_env(recording)
    except ConfigurationError as error:
        return [f"missing: {error}"]
    return [f"not read by {script}: {name}" for name in sorted(set(environ) - recording.read)]


def read_by_any_service(name: str) -> bool:
    return any(not configuration_problems(script, _complete_environ({name: "1"}))
               for script in CONFIG_OF_SCRIPT)


def _complete_environ(extra: dict[str, str]) -> dict[str, str]:
    required = {"OPTIMIZE_MONGODB_URI": "mongodb://db", "OPTIMIZE_AUTH_JWT_SECRET": SECRET_PLACEHOLDER}
    return {**required, **extra}


# --- Kubernetes -----------------------------------------------------------------------------------------

@pytest.fixture(scope="module", params=OVERLAYS)
def rendered(request) -> list[dict]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed: the overlays cannot be rendered here")
    output = subprocess.run([kubectl, "kustomize", str(DEPLOY / "k8s" / "overlays" / request.param)],
                            capture_output=True, text=True, check=True).stdout
    return [doc for doc in yaml.safe_load_all(output) if doc]


def of_kind(docs: list[dict], kind: str) -> list[dict]:
    return [doc for doc in docs if doc["kind"] == kind]


def containers(deployment: dict) -> list[dict]:
    return deployment["spec"]["template"]["spec"]["containers"]


def container_environ(container: dict, docs: list[dict]) -> dict[str, str]:
    config_maps = {doc["metadata"]["name"]: doc.get("data", {}) for doc in of_kind(docs, "ConfigMap")}
    environ: dict[str, str] = {}
    for source in container.get("envFrom", []):
        environ.update(config_maps[source["configMapRef"]["name"]])
    for variable in container.get("env", []):
        environ[variable["name"]] = variable.get("value", SECRET_PLACEHOLDER)
    return environ


def test_every_core_manifest_validates_strictly(rendered):
    core = [doc for doc in rendered if doc["apiVersion"] in CORE_API_GROUPS]
    assert {doc["kind"] for doc in core} >= {"Deployment", "Service", "ConfigMap", "HorizontalPodAutoscaler",
                                               "PodDisruptionBudget", "NetworkPolicy", "ServiceAccount"}
    for doc in core:
        kubernetes_validate.validate(doc, kubernetes_validate.latest_version(), strict=True)


PROCESSES = {"catalog-svc": ["catalog-svc", "serve"], "catalog-rpc": ["catalog-svc", "rpc"],
             "export-svc": ["export-svc", "serve"], "import-svc": ["import-svc", "serve"],
             "catalog-relay": ["catalog-svc", "relay"], "import-relay": ["import-svc", "relay"],
             "import-consumer": ["import-svc", "consume"]}


def test_the_deployments_are_the_seven_processes(rendered):
    commands = {doc["metadata"]["name"]: containers(doc)[0]["command"]
                for doc in of_kind(rendered, "Deployment")}
    assert commands == PROCESSES
    autoscaled = {doc["spec"]["scaleTargetRef"]["name"]
                  for doc in of_kind(rendered, "HorizontalPodAutoscaler")}
    assert autoscaled == {"export-svc", "import-svc", "catalog-rpc"}
    budgets = {doc["metadata"]["name"] for doc in of_kind(rendered, "PodDisruptionBudget")}
    assert budgets == set(commands)


def test_every_deployment_has_probes_resources_and_a_restrictive_security_context(rendered):
    for deployment in of_kind(rendered, "Deployment"):
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["automountServiceAccountToken"] is False
        for container in pod["containers"]:
            name = f"{deployment['metadata']['name']}/{container['name']}"
            assert container["readinessProbe"]["httpGet"]["path"] == "/readyz", name
            assert container["livenessProbe"]["httpGet"]["path"] == "/healthz", name
            for bound in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(container["resources"][bound]), name
            security = container["securityContext"]
            assert security["runAsNonRoot"] is True, name
            assert security["readOnlyRootFilesystem"] is True, name
            assert security["allowPrivilegeEscalation"] is False, name
            assert security["capabilities"]["drop"] == ["ALL"], name


def test_no_manifest_holds_a_secret_value(rendered):
    assert of_kind(rendered, "Secret") == []
    secret_like = re.compile(r"SECRET|PASSWORD|TOKEN|USERNAME|MONGODB_URI")
    for deployment in of_kind(rendered, "Deployment"):
        for container in containers(deployment):
            for variable in container.get("env", []):
                if secret_like.search(variable["name"]):
                    assert "secretKeyRef" in variable.get("valueFrom", {}), variable
    for config_map in of_kind(rendered, "ConfigMap"):
        for name, value in config_map["data"].items():
            assert not secret_like.search(name), name
            assert not re.search(r"://[^/@\s]+:[^/@\s]+@", value), f"{name} carries credentials"


def test_every_variable_the_manifests_set_is_read_and_every_required_one_is_set(rendered):
    problems = []
    for deployment in of_kind(rendered, "Deployment"):
        for container in containers(deployment):
            environ = container_environ(container, rendered)
            problems += [f"{deployment['metadata']['name']}: {problem}"
                         for problem in configuration_problems(container["command"][0], environ)]
    assert problems == []


def test_the_cross_check_fails_for_a_variable_no_service_reads(rendered):
    deployment = of_kind(rendered, "Deployment")[0]
    container = containers(deployment)[0]
    container = {**container, "env": [*container["env"], {"name": "OPTIMIZE_EXPORT_BATCH", "value": "5"}]}
    problems = configuration_problems(container["command"][0], container_environ(container, rendered))
    assert problems == [f"not read by {container['command'][0]}: OPTIMIZE_EXPORT_BATCH"]


def test_the_cross_check_fails_when_a_required_variable_is_missing(rendered):
    container = containers(of_kind(rendered, "Deployment")[0])[0]
    environ = container_environ(container, rendered)
    del environ["OPTIMIZE_MONGODB_URI"]
    [problem] = configuration_problems(container["command"][0], environ)
    assert problem.startswith("missing:") and "OPTIMIZE_MONGODB_URI" in problem


def test_the_route_sends_reads_of_reports_to_export_and_writes_to_import(rendered):
    [route] = of_kind(rendered, "HTTPRoute")
    backends = {}
    for rule in route["spec"]["rules"]:
        [backend] = rule["backendRefs"]
        for match in rule["matches"]:
            backends[(match.get("method"), match["path"]["value"])] = backend["name"]
    assert backends[("GET", "/api/report")] == "export-svc"
    assert backends[("PUT", "/api/report")] == backends[("DELETE", "/api/report")] == "import-svc"
    assert backends[("GET", "/api/dashboard")] == "export-svc"
    assert backends[("DELETE", "/api/dashboard")] == "import-svc"
    assert backends[(None, "/api/import")] == backends[(None, "/api/public/import")] == "import-svc"
    assert backends[(None, "/api/export")] == backends[(None, "/api/public/export")] == "export-svc"
    assert backends[(None, "/api/collection")] == "catalog-svc"
    services = {doc["metadata"]["name"] for doc in of_kind(rendered, "Service")}
    assert set(backends.values()) <= services


# --- Docker compose ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose" / "compose.yaml").read_text())


def _interpolated(value: str) -> str:
    """The value compose would pass, with ${VAR...} from the env file replaced by a placeholder."""
    return re.sub(r"\$\{[^}]+\}", SECRET_PLACEHOLDER, str(value))


def test_compose_runs_the_seven_processes_after_their_dependencies(compose):
    services = compose["services"]
    assert services["mongodb"]["image"].startswith("mongo:7")
    assert "--replSet" in services["mongodb"]["command"]
    assert "rs.initiate" in " ".join(services["mongodb-init"]["command"])
    assert "management" in services["rabbitmq"]["image"]
    ours = {name: service for name, service in services.items() if "command" in service
            and service["command"][0] in CONFIG_OF_SCRIPT}
    assert {name: service["command"] for name, service in ours.items()} == PROCESSES
    for name, service in ours.items():
        assert service["depends_on"]["mongodb-init"]["condition"] == "service_completed_successfully", name
        assert service["depends_on"]["rabbitmq"]["condition"] == "service_healthy", name
        assert "/readyz" in " ".join(service["healthcheck"]["test"]), name
        assert service["read_only"] is True, name
    assert ours["export-svc"]["depends_on"]["catalog-rpc"]["condition"] == "service_healthy"


def test_compose_takes_secrets_from_the_env_file_only(compose):
    secret_like = re.compile(r"SECRET|PASSWORD|TOKEN|_PASS$")
    for name, service in compose["services"].items():
        for variable, value in (service.get("environment") or {}).items():
            if secret_like.search(variable):
                assert re.fullmatch(r"\$\{[A-Z_]+:\?[^}]+\}", str(value)), f"{name}: {variable}"
    example = (DEPLOY / "compose" / ".env.example").read_text()
    used = set(re.findall(r"\$\{([A-Z_]+)", (DEPLOY / "compose" / "compose.yaml").read_text()))
    documented = set(re.findall(r"^#?\s*([A-Z_]+)=", example, re.MULTILINE))
    assert used <= documented
    ignored = subprocess.run(["git", "check-ignore", "-q", str(DEPLOY / "compose" / ".env")], cwd=ROOT)
    assert ignored.returncode == 0, "deploy/compose/.env must never be committed"


def test_every_variable_compose_sets_is_read_and_every_required_one_is_set(compose):
    problems = []
    for name, service in compose["services"].items():
        command = service.get("command") or []
        if not command or command[0] not in CONFIG_OF_SCRIPT:
            continue
        environ = {variable: _interpolated(value) for variable, value in service["environment"].items()}
        problems += [f"{name}: {problem}" for problem in configuration_problems(command[0], environ)]
    assert problems == []


# --- Dockerfile -------------------------------------------------------------------------------------------

def dockerfile_instructions() -> list[tuple[str, str]]:
    text = (DEPLOY / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def declared_console_scripts() -> dict[str, str]:
    scripts = {}
    for pyproject in [ROOT / "runtime" / "pyproject.toml", *ROOT.glob("services/*/pyproject.toml")]:
        scripts.update(tomllib.loads(pyproject.read_text())["project"].get("scripts", {}))
    return scripts


def test_every_dockerfile_copy_source_exists():
    copies = [arguments.split() for instruction, arguments in dockerfile_instructions()
              if instruction == "COPY"]
    checked = 0
    for words in copies:
        if any(word.startswith("--from=") for word in words):
            continue
        sources = [word for word in words if not word.startswith("--")][:-1]
        for source in sources:
            assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
            checked += 1
    assert checked >= 8


def test_every_command_the_image_runs_is_a_declared_console_script(compose, rendered):
    scripts = declared_console_scripts()
    [cmd] = [arguments for instruction, arguments in dockerfile_instructions() if instruction == "CMD"]
    commands = [yaml.safe_load(cmd)]
    commands += [service["command"] for service in compose["services"].values()
                 if service.get("build") or "optimize-entity-transfer" in str(service.get("image"))]
    commands += [container["command"] for deployment in of_kind(rendered, "Deployment")
                 for container in containers(deployment)]
    for command in commands:
        assert command[0] in scripts, command
        # The subcommand exists: argparse answers --help for it and exits 0.
        module, _, function = scripts[command[0]].partition(":")
        main = getattr(__import__(module, fromlist=[function]), function)
        with pytest.raises(SystemExit) as exited:
            main([*command[1:], "--help"])
        assert exited.value.code == 0, command


def test_the_image_runs_as_a_non_root_user_with_a_healthcheck_and_only_variables_services_read():
    instructions = dockerfile_instructions()
    [user] = [arguments for instruction, arguments in instructions if instruction == "USER"]
    assert user.split(":")[0] not in ("0", "root")
    assert any(instruction == "HEALTHCHECK" and "/healthz" in arguments
               for instruction, arguments in instructions)
    assert any(instruction == "RUN" and "uv sync --frozen --no-dev" in arguments
               for instruction, arguments in instructions)
    set_variables = [name for instruction, arguments in instructions if instruction == "ENV"
                     for name in re.findall(r"(OPTIMIZE_[A-Z0-9_]+)=", arguments)]
    assert set_variables
    assert [name for name in set_variables if not read_by_any_service(name)] == []


def test_the_image_installs_no_test_support():
    """The test support (pytest plugin, installations under test) is a dev dependency of the workspace
    only: the image installs what the root project depends on, without the dev group, and copies no
    source of `testing/`."""
    instructions = dockerfile_instructions()
    syncs = [arguments for instruction, arguments in instructions
             if instruction == "RUN" and "uv sync" in arguments]
    assert syncs and all("--no-dev" in sync and "--all-packages" not in sync for sync in syncs)
    copied = [word for instruction, arguments in instructions if instruction == "COPY"
              for word in arguments.split()[:-1] if not word.startswith("--")]
    assert [source for source in copied if source.startswith("testing/") and not source.endswith(
        "pyproject.toml")] == []
    root = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "optimize-testing" in root["dependency-groups"]["dev"]
    members = [ROOT / "contracts" / "pyproject.toml", ROOT / "runtime" / "pyproject.toml",
               *ROOT.glob("services/*/pyproject.toml")]
    production = [*root["project"]["dependencies"], *(
        dependency for pyproject in members
        for dependency in tomllib.loads(pyproject.read_text())["project"]["dependencies"])]
    assert [dependency for dependency in production
            if dependency.split("=")[0] in ("optimize-testing", "pytest", "testcontainers")] == []
