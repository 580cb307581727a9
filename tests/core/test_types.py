"""mypy over the Lambda code and the ports' fakes ([tool.mypy] in pyproject.toml says what and how): a type error
fails the suite. The cache (.mypy_cache, git-ignored) makes later runs fast; a fresh clone pays one full run."""
from pathlib import Path

from mypy import api

ROOT = Path(__file__).resolve().parents[2]


def test_mypy_passes(monkeypatch):
    monkeypatch.chdir(ROOT)
    stdout, stderr, status = api.run(["--config-file", str(ROOT / "pyproject.toml")])
    assert status == 0, stdout + stderr
