"""Keeps `import contracts` pointing at the installed package while these tests run.

pytest's importlib mode names a test module here `contracts.tests.unit.test_…`; finding no package at
`contracts/tests`, it registers this folder's parent as a namespace package called `contracts`, which
hides the real one (`contracts/src/contracts`) from every later import in the session.
"""

import importlib
import sys

if getattr(sys.modules.get("contracts"), "__file__", None) is None:
    sys.modules.pop("contracts", None)
    importlib.import_module("contracts")
