"""A private copy of the Chalice project with the pruned layer prebuilt, and `chalice` run inside it.

Tests work on a copy because other work changes chalice_app/ while they run, and Chalice names its layer after
a hash of vendor/: a copy keeps that hash still between layers/build.py and `chalice package`/`deploy`.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from chalice_app import naming
from tests.deploy.scripts import PROJECT_DIR, layer_builder

CHALICE = Path(sys.executable).with_name("chalice")
# What Chalice reads: the app, its requirements, its config, the IAM policy files and vendor/.
COPIED_FILES = ("app.py", "requirements.txt", ".chalice/config.json",
                *(f"policies/lambda-role-{stage}-{function}.json" for stage in ("dev", "prod")
                  for function in naming.LAMBDAS))
DUMMY_AWS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
             "AWS_REGION": "us-east-1"}


def copy_project(destination: Path) -> Path:
    for relative in COPIED_FILES:
        (destination / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(PROJECT_DIR / relative, destination / relative)
    shutil.copytree(PROJECT_DIR / "chalice_app", destination / "chalice_app",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (destination / "vendor").mkdir()
    # The same relative symlink as the project's, so the copy bundles exactly like the original.
    os.symlink(os.readlink(PROJECT_DIR / "vendor" / "chalice_app"), destination / "vendor" / "chalice_app")
    return destination


def build_layer(project: Path):
    """The pruned layer; the pip tree is shared with the project's cache (keyed by requirements.txt)."""
    return layer_builder().build_layer(project, PROJECT_DIR / "layers" / ".cache")


def run_chalice(project: Path, *arguments: str, extra_env: dict[str, str] | None = None,
                timeout: float = 600) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "COSTGUARD_"))}
    env.update(DUMMY_AWS)
    env.update({"COSTGUARD_STAGE": "dev", "PYTHONDONTWRITEBYTECODE": "1"})
    env.update(extra_env or {})
    result = subprocess.run([str(CHALICE), "--project-dir", str(project), *arguments], cwd=project, env=env,
                            capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise AssertionError(f"chalice {' '.join(arguments)} failed ({result.returncode}):\n"
                             f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result
