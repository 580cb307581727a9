"""What layers/build.py prunes, where it writes, and its pip cache: fast checks without pip."""
from pathlib import PurePosixPath

import pytest

from tests.deploy.scripts import layer_builder

build = layer_builder()


@pytest.mark.parametrize("path", [
    "kubernetes/aio/__init__.py", "kubernetes/aio/client/api/core_v1_api.py", "botocore/__pycache__/x.cpython-311.pyc",
    "__pycache__/six.cpython-311.pyc", "websocket/tests/test_app.py", "certifi/tests/__init__.py",
    "yaml/foo.pyc", "bin/normalizer", "chalice/app.py",
])
def test_pruned(path):
    assert build.is_pruned(PurePosixPath(path))


@pytest.mark.parametrize("path", [
    "kubernetes/client/api/core_v1_api.py", "kubernetes/config/kube_config.py", "kubernetes/__init__.py",
    "pydantic_core/_pydantic_core.cpython-311-x86_64-linux-gnu.so", "boto3-1.44.8.dist-info/RECORD",
    "boto3-1.44.8.dist-info/METADATA", "six.py", "chalice_app/budget/template.json", "aiohttp/test_utils.py",
    "kubernetes/aiohttp.py",
])
def test_kept(path):
    assert not build.is_pruned(PurePosixPath(path))


def test_cache_key_follows_requirements(tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("boto3==1.0\n")
    first = build.requirements_key(requirements)
    requirements.write_text("boto3==1.1\n")
    assert build.requirements_key(requirements) != first


def test_cached_install_is_reused_without_pip(tmp_path, monkeypatch):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("nothing==1\n")
    cached = tmp_path / "cache" / build.requirements_key(requirements) / "site-packages"
    cached.mkdir(parents=True)
    monkeypatch.setattr(build.subprocess, "run", lambda *a, **k: pytest.fail("pip must not run"))
    assert build.installed_tree(requirements, tmp_path / "cache") == cached


def test_failed_pip_leaves_no_cache_entry_and_says_so(tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("this is not a requirement line\n")
    with pytest.raises(build.LayerBuildError, match="pip install for the Lambda platform failed"):
        build.installed_tree(requirements, tmp_path / "cache")
    assert list((tmp_path / "cache").rglob("site-packages")) == []


def test_missing_requirements_is_named(tmp_path):
    with pytest.raises(build.LayerBuildError, match="no requirements.txt"):
        build.build_layer(tmp_path, tmp_path / "cache")


def test_layer_goes_where_chalice_looks_and_replaces_older_ones(built_project):
    project, figures = built_project
    deployments = project / ".chalice" / "deployments"
    assert figures.path == build.chalice_layer_path(project)
    assert [path.name for path in deployments.glob("managed-layer-*")] == [figures.path.name]
    assert figures.zipped_bytes < figures.pruned_bytes < figures.unpruned_bytes
    assert figures.kubernetes_pruned_bytes < figures.kubernetes_unpruned_bytes - 30_000_000  # aio is ~40 MB of source


def test_importing_the_app_does_not_rename_the_layer(built_project):
    # Chalice hashes vendor/ including __pycache__; the build compiles it first, so a later import adds nothing.
    project, figures = built_project
    import compileall
    compileall.compile_dir(str(project / "chalice_app"), quiet=1)
    assert build.chalice_layer_path(project) == figures.path
