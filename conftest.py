pytest_plugins = ["optimize_runtime.testing.pytest_plugin"]
