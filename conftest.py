pytest_plugins = ["optimize_testing.pytest_plugin"]
