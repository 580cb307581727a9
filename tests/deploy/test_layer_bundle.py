"""The packaged Lambda really runs: app.py + the pruned layer import with nothing but the standard library."""
import json
import subprocess
import sys
import zipfile
from pathlib import PurePosixPath

import pytest

from tests.deploy.project_copy import PROJECT_DIR
from tests.deploy.scripts import layer_builder

pytestmark = pytest.mark.slow
build = layer_builder()

# Run in a fresh interpreter: -S (no site, so no venv site-packages) -E (no PYTHON* variables); the import path
# is set by hand to the function zip and the layer, then every chalice_app module the Lambda can load is imported.
IMPORT_PROBE = r"""
import importlib, importlib.util, json, pkgutil, sys
function_dir, layer_dir = sys.argv[1], sys.argv[2]
sys.path[:0] = [function_dir, layer_dir]
import app
import chalice_app
lambda_modules = [info.name for info in pkgutil.walk_packages(chalice_app.__path__, "chalice_app.")
                  if not info.name.startswith("chalice_app.cli")]  # the operator CLI never runs on Lambda
for name in lambda_modules:
    importlib.import_module(name)
outside = sorted({getattr(module, "__file__", None) or "" for module in list(sys.modules.values())
                  if (getattr(module, "__file__", None) or "").startswith(sys.argv[3])})
print(json.dumps({
    "app_name": app.app.app_name,
    "handlers": sorted(app.app.handler_map),
    "event_sources": sorted(type(source).__name__ + ":" + source.name for source in app.app.event_sources),
    "kubernetes_aio": importlib.util.find_spec("kubernetes.aio") is not None,
    "kubernetes_from": importlib.util.find_spec("kubernetes").origin,
    "site_imported": "site" in sys.modules,
    "modules_checked": len(lambda_modules),
    "loaded_from_venv": outside,
}))
"""


def extract(archive, destination, under=""):
    with zipfile.ZipFile(archive) as zipped:
        for member in zipped.namelist():
            if member.startswith(under):
                zipped.extract(member, destination)
    return destination / under if under else destination


def test_chalice_reuses_the_pruned_layer_instead_of_building_its_own(built_project, packaged):
    _, figures = built_project
    output, log = packaged
    assert "Reusing existing shared layer deployment package" in log
    assert (output / "layer-deployment.zip").read_bytes() == figures.path.read_bytes()


def test_function_zip_holds_only_the_app_and_the_chalice_runtime(packaged):
    output, _ = packaged
    with zipfile.ZipFile(output / "deployment.zip") as zipped:
        assert sorted(zipped.namelist()) == ["app.py", "chalice/__init__.py", "chalice/app.py"]


def test_layer_has_the_app_package_and_no_pruned_files(packaged):
    output, _ = packaged
    with zipfile.ZipFile(output / "layer-deployment.zip") as zipped:
        names = zipped.namelist()
    prefix = "python/lib/python3.11/site-packages/"
    assert all(name.startswith(prefix) for name in names)
    relative = [PurePosixPath(name[len(prefix):]) for name in names]
    assert PurePosixPath("chalice_app/naming.py") in relative
    assert PurePosixPath("kubernetes/client/api_client.py") in relative
    assert any(path.parts[0].startswith("pydantic_core") and path.suffix == ".so" for path in relative)
    assert not [path for path in relative if build.is_pruned(path)]
    assert not [path for path in relative if path.parts[:2] == ("kubernetes", "aio")]
    assert any(path.parts[0].endswith(".dist-info") for path in relative)  # metadata kept


def test_app_imports_from_the_bundle_alone(packaged, tmp_path):
    output, _ = packaged
    function_dir = extract(output / "deployment.zip", tmp_path / "function")
    layer_dir = extract(output / "layer-deployment.zip", tmp_path / "layer", "python/lib/python3.11/site-packages")
    stage_env = json.loads((PROJECT_DIR / ".chalice" / "config.json").read_text())["stages"]["dev"]
    env = {**stage_env["environment_variables"], "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
           "POWERTOOLS_TRACE_DISABLED": "true", "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-S", "-E", "-c", IMPORT_PROBE, str(function_dir), str(layer_dir),
                             sys.prefix], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-4000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["app_name"] == "costguard"
    assert seen["handlers"] == ["budget", "digests", "interruptions", "offhours", "on_slack_request"]
    assert seen["event_sources"] == ["SQSEventConfig:interruptions", "ScheduledEventConfig:budget",
                                     "ScheduledEventConfig:digests", "ScheduledEventConfig:offhours"]
    assert seen["kubernetes_aio"] is False
    assert seen["kubernetes_from"].startswith(str(layer_dir))
    assert seen["site_imported"] is False
    assert seen["loaded_from_venv"] == []
    assert seen["modules_checked"] > 5
