"""`make package/deploy/delete` run through layers/stage_env.py: the region from the environment or else the stage's
config (said on stderr), one line naming what is missing."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy.scripts import PROJECT_DIR, load_script

stage_env = load_script("layers/stage_env.py", "costguard_stage_env")
SCRIPT = PROJECT_DIR / "layers" / "stage_env.py"
PRINT_REGION = [sys.executable, "-c", "import os; print(os.environ['AWS_REGION'], os.environ['AWS_DEFAULT_REGION'])"]


def test_the_environment_wins_and_the_stage_config_fills_in():
    assert stage_env.choose_region("eu-west-1", None, "dev") == stage_env.Region("eu-west-1", None)
    chosen = stage_env.choose_region(None, "eu-west-2", "dev")
    assert chosen.name == "eu-west-2" and "from stage dev (COSTGUARD_REGION" in chosen.note
    with pytest.raises(stage_env.Missing, match="configured for eu-west-2"):
        stage_env.choose_region("us-east-1", "eu-west-2", "dev")
    with pytest.raises(stage_env.Missing, match="no AWS region: set AWS_REGION"):
        stage_env.choose_region(None, None, "dev")


def test_the_projects_stages_name_their_region():
    config = json.loads((PROJECT_DIR / ".chalice" / "config.json").read_text())
    assert {stage: stage_env.stage_region(config, stage) for stage in config["stages"]} == {
        "dev": "us-east-1", "prod": "us-east-1"}


def run(tmp_path: Path, stage_variables: dict, needs: str, **environment: str):
    (tmp_path / ".chalice").mkdir(exist_ok=True)
    (tmp_path / ".chalice" / "config.json").write_text(json.dumps(
        {"stages": {"dev": {"environment_variables": stage_variables}}}))
    # no region, profile, credentials or instance metadata: a machine without an AWS config
    clean = {"PATH": "/usr/bin:/bin", "AWS_CONFIG_FILE": str(tmp_path / "none"),
             "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"), "AWS_EC2_METADATA_DISABLED": "true",
             **environment}
    return subprocess.run([sys.executable, str(SCRIPT), "--stage", "dev", "--needs", needs, "--", *PRINT_REGION],
                          cwd=tmp_path, env=clean, capture_output=True, text=True, timeout=60)


def test_package_without_an_aws_config_uses_the_stages_region_and_says_so(tmp_path):
    done = run(tmp_path, {"COSTGUARD_REGION": "eu-west-2"}, "region")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["eu-west-2", "eu-west-2"]
    assert done.stderr.strip() == ("costguard: no AWS region in the environment: using eu-west-2 from stage dev "
                                   "(COSTGUARD_REGION in .chalice/config.json)")


def test_what_is_missing_is_one_line_and_exit_2(tmp_path):
    no_region = run(tmp_path, {}, "region")
    assert no_region.returncode == 2 and no_region.stdout == ""
    assert no_region.stderr.count("\n") == 1 and "no AWS region" in no_region.stderr
    no_credentials = run(tmp_path, {"COSTGUARD_REGION": "eu-west-2"}, "region,credentials")
    assert no_credentials.returncode == 2
    assert no_credentials.stderr.strip().splitlines()[-1] == (
        "costguard: no AWS credentials: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY")
    disagree = run(tmp_path, {"COSTGUARD_REGION": "eu-west-2"}, "region", AWS_REGION="us-east-1")
    assert disagree.returncode == 2 and "configured for eu-west-2" in disagree.stderr


def test_credentials_and_region_from_the_environment_run_the_command(tmp_path):
    done = run(tmp_path, {}, "region,credentials", AWS_REGION="ap-south-1", AWS_ACCESS_KEY_ID="a",
               AWS_SECRET_ACCESS_KEY="b")
    assert done.returncode == 0 and done.stdout.split() == ["ap-south-1", "ap-south-1"] and done.stderr == ""
