"""`sigv4 token` as typed, against the vendors' own helpers at the same time, with temporary credentials."""

from __future__ import annotations

import boto3
import pytest
from freezegun import freeze_time

from cli_run import run_cli

TOKEN = "FQoGZXIvYXdzEJr//////////wEaDEXAMPLETOKEN+/="
ENV = {"AWS_ACCESS_KEY_ID": "ASIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "test", "AWS_SESSION_TOKEN": TOKEN,
       "HOME": "/nonexistent", "AWS_EC2_METADATA_DISABLED": "true"}
WHEN, DATE = "2024-03-04T05:06:07Z", "20240304T050607Z"


def session() -> boto3.session.Session:
    return boto3.session.Session(aws_access_key_id="ASIAEXAMPLE", aws_secret_access_key="test",
                                 aws_session_token=TOKEN, region_name="eu-west-1")


@pytest.mark.parametrize("host, port", [("MyDB.cluster-abc.eu-west-1.rds.amazonaws.com", 3306),
                                        ("Db.abc.eu-west-1.rds.amazonaws.com", 443)])
def test_rds_token_of_a_host_typed_in_capitals_is_botocores(host: str, port: int) -> None:
    """`sigv4 token rds --host MyDB...` (a host name as written in a config, capitals and all): the token is
    boto3's `generate_db_auth_token`, which keeps the host as written and signs it in lowercase (its URL's
    hostname). Before, the capitals were signed: another signature than the AWS CLI's for the same token text."""
    with freeze_time(WHEN):
        expected = session().client("rds").generate_db_auth_token(host, port, "app_user")
    code, out, err = run_cli(["token", "rds", "--host", host, "--port", str(port), "--user", "app_user",
                              "--date", DATE], ENV)
    assert code == 0 and out.decode().strip() == expected, (out, expected, err)


@pytest.mark.parametrize("admin", [False, True])
def test_dsql_token_of_a_host_typed_in_capitals_is_botocores(admin: bool) -> None:
    """The same for `sigv4 token dsql --host ABC...` against boto3's `generate_db_connect[_admin]_auth_token`."""
    host = "ABCDEF.dsql.us-east-1.on.aws"
    with freeze_time(WHEN):
        client = session().client("dsql", region_name="us-east-1")
        make = client.generate_db_connect_admin_auth_token if admin else client.generate_db_connect_auth_token
        expected = make(host, "us-east-1")
    code, out, err = run_cli(["token", "dsql", "--host", host, *(["--admin"] if admin else []), "--date", DATE], ENV)
    assert code == 0 and out.decode().strip() == expected, (out, expected, err)
