"""Pyflakes-class errors (unused or undefined names, syntax errors) fail the suite, not a later review."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHECKED = ["app.py", "chalice_app", "sandbox", "tests", "layers/build.py", "policies", "benchmarks"]


def test_no_pyflakes_errors():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--select", "F,E9", "--line-length", "120",
                             "--output-format", "concise", *CHECKED], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
