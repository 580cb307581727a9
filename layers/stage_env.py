"""Run a Makefile step that needs AWS with what it needs, or say in one line what is missing.

    python layers/stage_env.py --stage dev --needs region -- chalice package --stage dev build/package
    python layers/stage_env.py --stage prod --needs region,credentials -- chalice deploy --stage prod

The region comes from the environment (AWS_REGION, AWS_DEFAULT_REGION, the profile), else from the stage's
`COSTGUARD_REGION` in .chalice/config.json — said on stderr when used. When both exist and differ, the step stops:
the Lambda would read COSTGUARD_REGION and talk to another region than the one it was deployed to.
Exit code 2 for anything missing, otherwise the command's own.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

CHALICE_CONFIG = Path(".chalice") / "config.json"
REGION_VARIABLE = "COSTGUARD_REGION"


class Missing(Exception):
    """What the step needs and does not have, as one line."""


@dataclass(frozen=True)
class Region:
    name: str
    note: str | None  # said on stderr when the region did not come from the environment


def stage_region(config: dict, stage: str) -> str | None:
    stages = config.get("stages", {})
    if stage not in stages:
        raise Missing(f"unknown stage {stage!r} in {CHALICE_CONFIG}: expected one of {sorted(stages)}")
    variables = {**config.get("environment_variables", {}), **stages[stage].get("environment_variables", {})}
    return variables.get(REGION_VARIABLE) or None


def choose_region(environment_region: str | None, configured: str | None, stage: str) -> Region:
    """Pure: the environment's region, else the stage's; refuse a disagreement or neither."""
    if environment_region and configured and environment_region != configured:
        raise Missing(f"the environment's AWS region is {environment_region} but stage {stage} is configured for "
                      f"{configured} ({REGION_VARIABLE} in {CHALICE_CONFIG}): make them agree")
    if environment_region:
        return Region(environment_region, None)
    if configured:
        return Region(configured, f"no AWS region in the environment: using {configured} from stage {stage} "
                                  f"({REGION_VARIABLE} in {CHALICE_CONFIG})")
    raise Missing(f"no AWS region: set AWS_REGION (or a profile with a region), or {REGION_VARIABLE} in stage "
                  f"{stage} of {CHALICE_CONFIG}")


def environment_region() -> str | None:
    """AWS_REGION (the SDKs' and Lambda's variable), else botocore's AWS_DEFAULT_REGION or profile region."""
    import botocore.session  # reads the environment and the config files; sends nothing

    return os.environ.get("AWS_REGION") or botocore.session.Session().get_config_variable("region")


def check_credentials() -> None:
    import botocore.session
    from botocore.exceptions import BotoCoreError

    try:
        credentials = botocore.session.Session().get_credentials()
    except BotoCoreError as error:
        raise Missing(f"AWS credentials could not be loaded: {error}") from None
    if credentials is None:
        raise Missing("no AWS credentials: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY")


def prepare(stage: str, needs: set[str], config_path: Path = CHALICE_CONFIG) -> dict[str, str]:
    """The environment for the step; raises Missing with the one line to print."""
    environment = dict(os.environ)
    if "region" in needs:
        config = json.loads(config_path.read_text()) if config_path.exists() else {"stages": {stage: {}}}
        region = choose_region(environment_region(), stage_region(config, stage), stage)
        if region.note:
            print(f"costguard: {region.note}", file=sys.stderr)
        environment["AWS_REGION"] = environment["AWS_DEFAULT_REGION"] = region.name
    if "credentials" in needs:
        check_credentials()
    return environment


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", required=True)
    parser.add_argument("--needs", default="region", help="comma list of: region, credentials")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    arguments = parser.parse_args(argv)
    command = arguments.command[1:] if arguments.command[:1] == ["--"] else arguments.command
    if not command:
        parser.error("give the command after --")
    try:
        environment = prepare(arguments.stage, set(filter(None, arguments.needs.split(","))))
    except Missing as missing:
        print(f"costguard: {missing}", file=sys.stderr)
        return 2
    return subprocess.run(command, env=environment, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
