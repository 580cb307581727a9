"""The one SSM reader (chalice_app/ssm.py) against moto: the AWS code in the error, secrets stripped and non-empty."""
import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from moto import mock_aws

from chalice_app.config import load_settings
from chalice_app.ssm import ParameterError, read_parameter, read_secret

SETTINGS = load_settings({"COSTGUARD_CLUSTER_NAME": "test", "COSTGUARD_TABLE_NAME": "costguard-test"})


@pytest.fixture
def ssm():
    parameters.clear_caches()
    with mock_aws():
        yield boto3.client("ssm", region_name="us-east-1")
    parameters.clear_caches()


def test_reads_strings_and_secure_strings(ssm):
    ssm.put_parameter(Name="/costguard/test/doc", Type="String", Value='{"amount": 1}')
    ssm.put_parameter(Name="/costguard/test/url", Type="SecureString", Value="  https://hooks.example/x \n")
    assert read_parameter("/costguard/test/doc", SETTINGS) == '{"amount": 1}'
    assert read_secret("/costguard/test/url", SETTINGS) == "https://hooks.example/x"
    session = boto3.session.Session(region_name="us-east-1")
    assert read_parameter("/costguard/test/doc", SETTINGS, session) == '{"amount": 1}'


def test_missing_and_empty_parameters_say_which_and_why(ssm):
    with pytest.raises(ParameterError,
                       match=r"^SSM parameter /costguard/test/none cannot be read \(ParameterNotFound\)$"):
        read_parameter("/costguard/test/none", SETTINGS)
    ssm.put_parameter(Name="/costguard/test/blank", Type="SecureString", Value="   ")
    with pytest.raises(ParameterError, match=r"^SSM parameter /costguard/test/blank: empty$"):
        read_secret("/costguard/test/blank", SETTINGS)
