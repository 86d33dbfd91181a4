"""`baton.auth`: hashed keys in the metadata table, HMAC-signed tokens, the CLI, the authorizer."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import boto3
import pytest
from aws_lambda_powertools.utilities.typing import LambdaContext
from moto import mock_aws

from baton import settings
from baton.auth import (
    TOKEN_LIFETIME_SECONDS,
    create_key,
    issue_token,
    list_keys,
    revoke_key,
    token_response,
    tokens,
    verify_token,
)
from baton.auth import keys as key_store
from baton.auth.__main__ import main as cli
from baton.store.models import MetadataItem
from baton.store.schema import create_table_request, table_specs

NOW = 1_800_000_000_000  # epoch ms
SIGNING_KEY = b"k" * 64
API_ARN = "arn:aws:execute-api:us-east-1:123456789012:abc123"


@pytest.fixture
def metadata_table(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv(settings.ENDPOINT_URL, raising=False)
    with mock_aws():
        (spec,) = [s for s in table_specs() if s.logical_name == "Metadata"]
        boto3.client("dynamodb").create_table(
            **create_table_request(spec, MetadataItem.Meta.table_name)
        )
        yield


@pytest.fixture
def signing_secret(metadata_table: None, monkeypatch: pytest.MonkeyPatch) -> str:
    arn = boto3.client("secretsmanager").create_secret(
        Name="baton-token-signing", SecretString="s" * 64
    )["ARN"]
    monkeypatch.setenv(settings.TOKEN_SECRET_ARN, arn)
    monkeypatch.setattr(tokens, "_cached_key", None)
    return str(arn)


def stored_item(key_id: str) -> dict[str, object]:
    item = MetadataItem.get(key_store.KEY_PARTITION, key_id)
    return {"pk": item.pk, "sk": item.sk, "body": json.loads(item.body or "{}")}


class TestKeys:
    def test_secret_is_stored_only_as_a_salted_scrypt_hash(self, metadata_table):
        key_id, key_secret = create_key("ci-workers", now=NOW)
        item = stored_item(key_id)
        assert item["pk"] == "API_KEY" and item["sk"] == key_id
        body = item["body"]
        assert isinstance(body, dict)
        assert key_secret not in json.dumps(body)
        assert body["name"] == "ci-workers" and body["algorithm"] == "scrypt"
        assert len(base64.b64decode(body["salt"])) == key_store.SALT_BYTES
        assert key_store.secret_matches(body, key_secret)
        assert not key_store.secret_matches(body, key_secret + "x")

    def test_the_same_secret_hashes_differently_per_key(self):
        first = key_store.key_record("a", "same secret", created_at=NOW)
        second = key_store.key_record("b", "same secret", created_at=NOW)
        assert first["salt"] != second["salt"] and first["hash"] != second["hash"]

    def test_list_shows_names_never_secrets(self, metadata_table):
        first, _ = create_key("first", now=NOW)
        second, _ = create_key("second", now=NOW + 1)
        assert [(k.key_id, k.name, k.created_at) for k in list_keys()] == [
            (first, "first", NOW),
            (second, "second", NOW + 1),
        ]

    def test_revoke_deletes_the_key_once(self, metadata_table):
        key_id, _ = create_key("temporary", now=NOW)
        assert revoke_key(key_id) is True
        assert revoke_key(key_id) is False
        assert list_keys() == []

    def test_a_key_needs_a_name(self, metadata_table):
        with pytest.raises(ValueError, match="name"):
            create_key("  ")


class TestTokens:
    def test_a_token_names_its_key_until_it_expires(self, metadata_table):
        key_id, key_secret = create_key("worker", now=NOW)
        token = issue_token(key_id, key_secret, NOW, key=SIGNING_KEY)
        assert token is not None
        assert verify_token(token, NOW, key=SIGNING_KEY) == key_id
        last_valid = NOW + (TOKEN_LIFETIME_SECONDS - 1) * 1000
        assert verify_token(token, last_valid, key=SIGNING_KEY) == key_id
        expired = NOW + TOKEN_LIFETIME_SECONDS * 1000
        assert verify_token(token, expired, key=SIGNING_KEY) is None

    def test_wrong_secret_or_unknown_key_gets_no_token(self, metadata_table):
        key_id, key_secret = create_key("worker", now=NOW)
        assert issue_token(key_id, key_secret + "x", NOW, key=SIGNING_KEY) is None
        assert issue_token("no-such-key", key_secret, NOW, key=SIGNING_KEY) is None
        assert issue_token("", key_secret, NOW, key=SIGNING_KEY) is None

    def test_tampered_tokens_are_refused(self, metadata_table):
        key_id, key_secret = create_key("worker", now=NOW)
        other_id, _ = create_key("other", now=NOW)
        token = issue_token(key_id, key_secret, NOW, key=SIGNING_KEY)
        assert token is not None
        header, claims, signature = token.split(".")
        forged_claims = base64.urlsafe_b64encode(
            json.dumps({"exp": 9_999_999_999, "iat": 0, "sub": other_id}).encode()
        ).rstrip(b"=")
        unsigned = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=")
        for forged in (
            f"{header}.{forged_claims.decode()}.{signature}",  # claims changed
            f"{header}.{claims}.{signature[:-2]}AA",  # signature changed
            f"{unsigned.decode()}.{claims}.",  # alg none
            f"{header}.{claims}",  # truncated
            "not a token",
        ):
            assert verify_token(forged, NOW, key=SIGNING_KEY) is None, forged
        assert verify_token(token, NOW, key=b"another key") is None

    def test_revoking_a_key_stops_its_tokens(self, metadata_table):
        key_id, key_secret = create_key("worker", now=NOW)
        token = issue_token(key_id, key_secret, NOW, key=SIGNING_KEY)
        assert token is not None
        revoke_key(key_id)
        assert verify_token(token, NOW, key=SIGNING_KEY) is None

    def test_the_signing_key_comes_from_secrets_manager(self, signing_secret):
        key_id, key_secret = create_key("worker", now=NOW)
        token = issue_token(key_id, key_secret, NOW)
        assert token is not None
        assert verify_token(token, NOW, key=b"s" * 64) == key_id
        assert verify_token(token, NOW) == key_id

    def test_without_a_secret_the_error_says_how_to_get_one(self, monkeypatch):
        monkeypatch.delenv(settings.TOKEN_SECRET_ARN, raising=False)
        with pytest.raises(RuntimeError, match="authMode=conductor-keys"):
            tokens.signing_key()


class TestTokenResponse:
    def test_valid_credentials_get_a_token(self, signing_secret):
        key_id, key_secret = create_key("worker", now=NOW)
        status, body = token_response({"keyId": key_id, "keySecret": key_secret}, now=NOW)
        assert status == 200
        assert verify_token(str(body["token"]), NOW) == key_id

    @pytest.mark.parametrize("body", [None, [], {}, {"keyId": "a"}, {"keyId": 1, "keySecret": "b"}])
    def test_malformed_bodies_are_bad_requests(self, body):
        status, error = token_response(body, now=NOW)
        assert status == 400
        assert set(error) == {"status", "message", "instance", "retryable"}

    def test_wrong_credentials_are_unauthorized(self, signing_secret):
        key_id, _ = create_key("worker", now=NOW)
        status, error = token_response({"keyId": key_id, "keySecret": "wrong"}, now=NOW)
        assert (status, error["status"], error["retryable"]) == (401, 401, False)


class TestCommandLine:
    def test_create_list_and_revoke(self, metadata_table, capsys):
        table = ["--table", MetadataItem.Meta.table_name, "--region", "us-east-1"]
        assert cli([*table, "create", "ci-workers"]) == 0
        created = json.loads(capsys.readouterr().out)
        assert set(created) == {"keyId", "keySecret"}
        assert cli([*table, "list"]) == 0
        listed = capsys.readouterr().out
        assert created["keyId"] in listed and "ci-workers" in listed
        assert created["keySecret"] not in listed
        assert cli([*table, "revoke", created["keyId"]]) == 0
        assert cli([*table, "revoke", created["keyId"]]) == 1

    def test_a_table_is_required(self, monkeypatch):
        monkeypatch.delenv(settings.METADATA_TABLE, raising=False)
        with pytest.raises(SystemExit, match="MetadataTableName"):
            cli(["list"])


class TestAuthorizer:
    @staticmethod
    def event(token: str | None) -> dict[str, object]:
        headers = {"x-authorization": token} if token is not None else {}
        return {
            "type": "REQUEST",
            "methodArn": f"{API_ARN}/prod/GET/api/workflow/1",
            "resource": "/api/{proxy+}",
            "path": "/api/workflow/1",
            "httpMethod": "GET",
            "headers": headers,
            "requestContext": {},
        }

    @staticmethod
    def context() -> LambdaContext:
        context = LambdaContext()
        context._function_name = "authorizer"
        context._memory_limit_in_mb = 256
        context._invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:authorizer"
        context._aws_request_id = "request-1"
        return context

    def test_a_valid_token_is_allowed_on_every_route_of_the_stage(self, signing_secret):
        from baton.handlers.authorizer import handler

        key_id, key_secret = create_key("worker")
        status, body = token_response({"keyId": key_id, "keySecret": key_secret})
        assert status == 200
        response = handler(self.event(str(body["token"])), self.context())
        assert response["principalId"] == key_id
        assert response["context"] == {"keyId": key_id}
        (statement,) = response["policyDocument"]["Statement"]
        assert statement["Effect"] == "Allow"
        assert statement["Resource"] == [f"{API_ARN}/prod/*/*"]

    @pytest.mark.parametrize("token", [None, "", "garbage"])
    def test_anything_else_passes_with_no_key_for_the_api_to_refuse(self, signing_secret, token):
        # An HTTP API's own denial is a bare 403; the API function answers 401 INVALID_TOKEN.
        from baton.handlers.authorizer import INVALID_TOKEN_PRINCIPAL, handler

        response = handler(self.event(token), self.context())
        assert response["principalId"] == INVALID_TOKEN_PRINCIPAL
        assert "keyId" not in (response.get("context") or {})


class TestApiRefusesRequestsWithoutAKey:
    @staticmethod
    def event(path: str, method: str = "GET", authorizer: dict[str, str] | None = None):
        resource = "/api/token" if path == "/api/token" and method == "POST" else "/api/{proxy+}"
        return {
            "version": "1.0",
            "resource": resource,
            "path": path,
            "httpMethod": method,
            "headers": {"Content-Type": "application/json"},
            "multiValueHeaders": {"Content-Type": ["application/json"]},
            "queryStringParameters": None,
            "multiValueQueryStringParameters": None,
            "pathParameters": None,
            "requestContext": {"requestId": "r", "authorizer": authorizer or {}},
            "body": None,
            "isBase64Encoded": False,
        }

    @pytest.fixture
    def key_mode(self, monkeypatch):
        monkeypatch.setenv(settings.AUTH_MODE, "conductor-keys")

    @pytest.mark.parametrize("authorizer", [None, {"principalId": "invalid-token"}, {"keyId": ""}])
    def test_without_a_key_id_the_answer_is_the_401_sdks_renew_on(self, key_mode, authorizer):
        from baton.handlers.api import handler

        answer = handler(
            self.event("/api/metadata/workflow", authorizer=authorizer), TestAuthorizer.context()
        )
        assert answer["statusCode"] == 401
        body = json.loads(answer["body"])
        assert body["error"] == "INVALID_TOKEN" and body["status"] == 401
        assert {"message", "instance", "retryable"} <= set(body)

    def test_the_token_route_needs_no_key(self, key_mode):
        from baton.handlers.api import handler

        answer = handler(self.event("/api/token", "POST"), TestAuthorizer.context())
        assert answer["statusCode"] == 400  # no body: a bad request, not a missing token
