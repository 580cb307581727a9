import pytest

from tests.deploy.project_copy import build_layer, copy_project, run_chalice


@pytest.fixture(scope="session")
def built_project(tmp_path_factory):
    """A copy of the project with the pruned layer where Chalice looks for it; (project dir, figures)."""
    project = copy_project(tmp_path_factory.mktemp("project"))
    return project, build_layer(project)


@pytest.fixture(scope="session")
def packaged(built_project, tmp_path_factory):
    """`chalice package --stage dev` of the copy: (output dir, chalice's stdout)."""
    project, _ = built_project
    output = tmp_path_factory.mktemp("package") / "out"
    result = run_chalice(project, "package", "--stage", "dev", str(output))
    return output, result.stdout + result.stderr
