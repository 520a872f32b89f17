"""The services' commands as an operator runs them."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent


@pytest.mark.parametrize("command", [["catalog-svc", "serve"], ["catalog-svc", "rpc"],
                                     ["export-svc", "serve"], ["import-svc", "serve"]])
def test_no_service_starts_outside_development_without_an_authentication_secret(command, environ):
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPTIMIZE_")}
    env.update({k: v for k, v in environ.items() if k != "OPTIMIZE_AUTH_JWT_SECRET"})
    env["OPTIMIZE_ENV"] = "production"
    result = subprocess.run([str(BIN / command[0]), *command[1:]], env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2
    assert "cannot start" in result.stderr and "OPTIMIZE_AUTH_JWT_SECRET" in result.stderr
