import pytest

from chalice_app.config import load_settings
from chalice_app.errors import ConfigError

BASE = {"COSTGUARD_CLUSTER_NAME": "openfaas", "COSTGUARD_TABLE_NAME": "costguard-dev"}


def test_defaults_and_comma_lists():
    settings = load_settings({**BASE, "COSTGUARD_FUNCTION_NAMESPACES": "openfaas-fn, team-a",
                              "AWS_REGION": "eu-west-2"})
    assert settings.function_namespaces == ["openfaas-fn", "team-a"]
    assert settings.region == "eu-west-2"
    assert settings.offhours_max_changes == 500
    assert settings.default_interruption_action == "alert"
    assert settings.offhours_delete_empty_nodeclaims == 0  # opt-in: off unless set


def test_json_list_and_action_map():
    settings = load_settings({**BASE, "COSTGUARD_FUNCTION_NAMESPACES": '["a"]',
                              "COSTGUARD_INTERRUPTION_ACTIONS": '{"spot": "cordon-and-drain"}',
                              "COSTGUARD_DRY_RUN": "true"})
    assert settings.function_namespaces == ["a"]
    assert settings.interruption_actions == {"spot": "cordon-and-drain"}
    assert settings.dry_run is True


def test_missing_required_variables_are_named():
    with pytest.raises(ConfigError) as error:
        load_settings({})
    assert "COSTGUARD_CLUSTER_NAME" in str(error.value)
    assert "COSTGUARD_TABLE_NAME" in str(error.value)


@pytest.mark.parametrize("variable, value", [
    ("COSTGUARD_OFFHOURS_MAX_CHANGES", "many"),
    ("COSTGUARD_DRY_RUN", "perhaps"),
    ("COSTGUARD_INTERRUPTION_ACTIONS", '{"spot": "explode"}'),
    ("COSTGUARD_INTERRUPTION_ACTIONS", "{not json"),
    ("COSTGUARD_KUBE_ENDPOINT", "ftp://cluster"),
    ("COSTGUARD_SLACK_WEBHOOK_PARAMETER", "no-leading-slash"),
    ("COSTGUARD_STAGE", "Prod Stage"),
    ("COSTGUARD_OFFHOURS_DELETE_EMPTY_NODECLAIMS", "101"),  # bounded per run
    ("COSTGUARD_OFFHOURS_DELETE_EMPTY_NODECLAIMS", "-1"),
])
def test_bad_values_name_the_variable_and_the_value(variable, value):
    with pytest.raises(ConfigError) as error:
        load_settings({**BASE, variable: value})
    message = str(error.value)
    assert variable in message
    assert "CLUSTER_NAME" not in message  # only the bad variable is blamed


def test_tracer_patches_only_aws_sdks():
    # patching urllib/requests would put the Slack webhook URL (its secret) into X-Ray subsegments
    from chalice_app.observability import tracer

    assert set(tracer._config["patch_modules"]) == {"boto3", "botocore"}
