"""Load the project's build scripts (layers/build.py, policies/iam_template.py), which are not packages."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]


def load_script(relative: str, name: str):
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, PROJECT_DIR / relative)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def layer_builder():
    return load_script("layers/build.py", "costguard_layer_build")


def iam_template():
    return load_script("policies/iam_template.py", "costguard_iam_template")
