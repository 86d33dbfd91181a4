"""The AWS services around the functions, played from the template: API Gateway (an HTTP API's
proxy routes, a REQUEST authorizer), the SQS event source mappings and the EventBridge schedules.

Every invocation and every call refused by a policy is recorded on the `Cloud`.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import boto3

from embedded.gateway import MalformedRequest, http_api_path
from embedded.pollers import failed_message_ids, sqs_record
from tests.deployed.cloud import ACCOUNT, REGION, Deployment, Stack, arn
from tests.deployed.lambdas import FunctionProcess, FunctionSpec, Invocation
from tests.deployed.sandbox import guard
from tests.deployed.sandbox.iam_policy import Principal, Request, arn_matches, decide

# The caller the driver plays in IAM mode: SigV4 requests from this user.
CALLER_ARN = f"arn:aws:iam::{ACCOUNT}:user/deployed-shape"
_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")


@dataclass
class Outcome:
    """One invocation: who was invoked, by what, and how it went."""

    function: str
    source: str
    error: dict[str, Any] | None
    batch_item_failures: list[str] = field(default_factory=list)


@dataclass
class Cloud:
    deployment: Deployment
    functions: dict[str, FunctionProcess]  # by function ARN
    endpoint_url: str
    refused: list[dict[str, Any]] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.endpoint_url, region_name=REGION)

    def function(self, arn_or_name: str) -> FunctionProcess:
        for function_arn, process in self.functions.items():
            if arn_or_name in (function_arn, process.spec.name):
                return process
        raise KeyError(f"No function {arn_or_name}")

    def invoke(self, process: FunctionProcess, event: dict[str, Any], source: str) -> Invocation:
        invocation = process.invoke(event)
        for refusal in invocation.refused:
            self.refused.append({"principal": process.spec.logical_id, **refusal})
        failures = []
        if invocation.error is None and isinstance(invocation.result, dict):
            failures = [
                f.get("itemIdentifier") for f in invocation.result.get("batchItemFailures") or []
            ]
        self.outcomes.append(Outcome(process.spec.logical_id, source, invocation.error, failures))
        return invocation

    def service_may_invoke(self, process: FunctionProcess, service: str, source_arn: str) -> bool:
        """The function's resource policy (AWS::Lambda::Permission) admits `service` from
        `source_arn`; a refusal is recorded like any other."""
        for stack in self.deployment.stack_order():
            for permission in stack.of_type("AWS::Lambda::Permission").values():
                properties = self.deployment.resolve(stack, permission["Properties"])
                if (
                    properties["FunctionName"] in (process.spec.arn, process.spec.name)
                    and properties["Action"] in ("lambda:InvokeFunction", "lambda:*")
                    and properties["Principal"] == service
                    and arn_matches(properties.get("SourceArn", "*"), source_arn)
                ):
                    return True
        self.refused.append(
            {
                "principal": service,
                "service": "lambda",
                "operation": "Invoke",
                "message": f"{service} may not invoke {process.spec.name} from {source_arn}: no "
                "AWS::Lambda::Permission admits it",
            }
        )
        return False

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.spec.logical_id} ---\n{p.logs()[-4000:]}" for p in self.functions.values()
        )


# --- SQS event source mappings ------------------------------------------------------------


class EventSourceMapping:
    """Lambda's poller for one AWS::Lambda::EventSourceMapping on an SQS queue.

    It receives with the function's role (its calls are checked against that role's policy),
    invokes the function with a batch of at most BatchSize records and deletes what succeeded:
    with ReportBatchItemFailures, everything but the reported items; otherwise all or nothing.
    What is left returns after the visibility timeout and, after maxReceiveCount receives,
    moto's redrive policy moves it to the dead-letter queue.
    """

    def __init__(self, cloud: Cloud, stack: Stack, logical_id: str) -> None:
        properties = cloud.deployment.resolve(stack, stack.resources[logical_id]["Properties"])
        self.cloud = cloud
        self.logical_id = logical_id
        self.queue_arn: str = properties["EventSourceArn"]
        if not self.queue_arn.startswith("arn:aws:sqs:"):
            raise NotImplementedError(f"{logical_id}: event source {self.queue_arn}")
        self.function = cloud.function(properties["FunctionName"])
        self.batch_size = int(properties.get("BatchSize", 10))
        self.enabled = properties.get("Enabled", True) is not False
        self.report_failures = "ReportBatchItemFailures" in properties.get(
            "FunctionResponseTypes", []
        )
        self.queue_url = cloud.deployment.ref_of("Arn", self.queue_arn)
        self.sqs = cloud.client("sqs")
        # Receipts of the records the last batch left on the queue (failed or unreported).
        self.left_on_queue: list[str] = []
        self._refused: list[dict[str, Any]] = []
        guard.register(self.sqs.meta.events, self.function.spec.principal, self._refused)
        # Lambda reads the queue's attributes when the mapping is created.
        self._call(self.sqs.get_queue_attributes, QueueUrl=self.queue_url, AttributeNames=["All"])

    def _call(self, method: Any, **kwargs: Any) -> Any:
        try:
            return method(**kwargs)
        except self.sqs.exceptions.ClientError:
            return None
        finally:
            for refusal in self._refused:
                self.cloud.refused.append({"principal": f"{self.logical_id} (poller)", **refusal})
            self._refused.clear()

    def poll(self) -> int:
        """One receive and its batch; the number of messages handed to the function."""
        if not self.enabled:
            return 0
        response = self._call(
            self.sqs.receive_message,
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=min(self.batch_size, 10),
            WaitTimeSeconds=0,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages = (response or {}).get("Messages", [])
        if not messages:
            return 0
        records = [sqs_record(m, queue_arn=self.queue_arn, region=REGION) for m in messages]
        invocation = self.cloud.invoke(self.function, {"Records": records}, self.logical_id)
        if invocation.error is not None:
            self.left_on_queue = [r["receiptHandle"] for r in records]
            return len(records)
        failed = failed_message_ids(records, invocation.result) if self.report_failures else set()
        self.left_on_queue = [r["receiptHandle"] for r in records if r["messageId"] in failed]
        done = [r for r in records if r["messageId"] not in failed]
        if done:
            entries = [
                {"Id": str(i), "ReceiptHandle": r["receiptHandle"]} for i, r in enumerate(done)
            ]
            self._call(self.sqs.delete_message_batch, QueueUrl=self.queue_url, Entries=entries)
        return len(records)

    def let_visibility_timeout_pass(self) -> None:
        """Move the queue's clock for what the last batch left: those messages are visible
        again at once, as they would be after the visibility timeout (not the mapping's call)."""
        admin = self.cloud.client("sqs")
        for receipt in self.left_on_queue:
            admin.change_message_visibility(
                QueueUrl=self.queue_url, ReceiptHandle=receipt, VisibilityTimeout=0
            )
        self.left_on_queue = []


# --- EventBridge schedules ----------------------------------------------------------------


class ScheduledRule:
    """An AWS::Events::Rule with a ScheduleExpression: `fire()` is one period elapsing."""

    def __init__(self, cloud: Cloud, stack: Stack, logical_id: str) -> None:
        properties = cloud.deployment.resolve(stack, stack.resources[logical_id]["Properties"])
        self.cloud = cloud
        self.logical_id = logical_id
        self.arn = cloud.deployment.get_att(stack, logical_id, "Arn")
        match = _RATE.match(properties["ScheduleExpression"])
        if match is None:
            raise NotImplementedError(f"{logical_id}: {properties['ScheduleExpression']}")
        self.enabled = properties.get("State", "ENABLED") == "ENABLED"
        self.targets = properties.get("Targets", [])

    def fire(self) -> list[Invocation]:
        if not self.enabled:
            return []
        invocations = []
        for target in self.targets:
            process = self.cloud.function(target["Arn"])
            if not self.cloud.service_may_invoke(process, "events.amazonaws.com", self.arn):
                continue
            event = json.loads(target["Input"]) if "Input" in target else self._event()
            invocations.append(self.cloud.invoke(process, event, self.logical_id))
        return invocations

    def _event(self) -> dict[str, Any]:
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": ACCOUNT,
            "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": REGION,
            "resources": [self.arn],
            "detail": {},
        }


# --- API Gateway ----------------------------------------------------------------------------


@dataclass
class Response:
    status: int
    body: str
    headers: dict[str, str]

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class _Route:
    path: str
    http_method: str
    authorization: str
    authorizer: dict[str, Any] | None
    authorizer_id: str | None
    function: FunctionProcess

    def matches(self, method: str, path: str) -> dict[str, str] | None:
        if self.http_method not in ("ANY", method):
            return None
        pattern = ""
        for part in self.path.strip("/").split("/"):
            if part.endswith("+}"):
                pattern += f"/(?P<{part[1:-2]}>.+)"
            elif part.startswith("{"):
                pattern += f"/(?P<{part[1:-1]}>[^/]+)"
            else:
                pattern += "/" + re.escape(part)
        match = re.fullmatch(pattern or "/", path)
        return match.groupdict() if match else None

    @property
    def specificity(self) -> tuple[int, int, int]:
        parts = self.path.strip("/").split("/")
        literal = sum(not p.startswith("{") for p in parts)
        return (literal, -sum(p.endswith("+}") for p in parts), self.http_method != "ANY")


class ApiGateway:
    """The template's HTTP API, its routes, Lambda integrations and authorizers, on its stage."""

    def __init__(self, cloud: Cloud, stack: Stack, http_api_id: str) -> None:
        deployment = cloud.deployment
        self.cloud = cloud
        self.api_id = deployment.ref(stack, http_api_id)
        stages = [
            deployment.resolve(stack, s["Properties"])
            for s in stack.of_type("AWS::ApiGatewayV2::Stage").values()
        ]
        (stage,) = [s for s in stages if s["ApiId"] == self.api_id]
        self.stage = stage["StageName"]
        integrations = {
            deployment.ref(stack, k): deployment.resolve(stack, v["Properties"])
            for k, v in stack.of_type("AWS::ApiGatewayV2::Integration").items()
        }
        authorizers = {
            deployment.ref(stack, k): deployment.resolve(stack, v["Properties"])
            for k, v in stack.of_type("AWS::ApiGatewayV2::Authorizer").items()
        }
        self.routes: list[_Route] = []
        for route in stack.of_type("AWS::ApiGatewayV2::Route").values():
            properties = deployment.resolve(stack, route["Properties"])
            if properties["ApiId"] != self.api_id:
                continue
            integration = integrations[properties["Target"].removeprefix("integrations/")]
            if integration.get("IntegrationType") != "AWS_PROXY":
                raise NotImplementedError(f"Integration {integration.get('IntegrationType')}")
            # The events below are payload format 1.0's.
            if integration.get("PayloadFormatVersion") != "1.0":
                raise NotImplementedError(f"Payload {integration.get('PayloadFormatVersion')}")
            method, path = properties["RouteKey"].split(" ", 1)
            authorizer_id = properties.get("AuthorizerId")
            self.routes.append(
                _Route(
                    path=path,
                    http_method=method,
                    authorization=properties.get("AuthorizationType", "NONE"),
                    authorizer=authorizers.get(authorizer_id) if authorizer_id else None,
                    authorizer_id=authorizer_id,
                    function=cloud.function(integration["IntegrationUri"]),
                )
            )
        # An HTTP API's own answers, which it cannot be told to reshape.
        self.unauthorized = Response(401, '{"message":"Unauthorized"}', {})
        self.forbidden = Response(403, '{"message":"Forbidden"}', {})
        self._authorizer_cache: dict[tuple[str, str], tuple[float, dict[str, Any]]] = {}

    def request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> Response:
        # A query string, as API Gateway hands it over: decoded; the path as an HTTP API
        # decodes it.
        path, _, query_text = path.partition("?")
        try:
            path = http_api_path(path)
        except MalformedRequest:
            return Response(400, '{"message":"Bad Request"}', {})
        query = parse_qs(query_text, keep_blank_values=True)
        matching = [
            (r, params) for r in self.routes if (params := r.matches(method, path)) is not None
        ]
        if not matching:
            return Response(404, '{"message":"Not Found"}', {})
        route, path_parameters = max(matching, key=lambda pair: pair[0].specificity)
        headers = {"Content-Type": "application/json", **(headers or {})}
        method_arn = arn("execute-api", f"{self.api_id}/{self.stage}/{method}{path}")
        context: dict[str, Any] = {
            "resourcePath": route.path,
            "httpMethod": method,
            "path": path,
            "stage": self.stage,
            "requestId": str(uuid.uuid4()),
            "accountId": ACCOUNT,
            "apiId": self.api_id,
            "identity": {"sourceIp": "127.0.0.1", "userAgent": "deployed-shape"},
        }
        if route.authorization == "AWS_IAM":
            # The driver signs as an IAM user that may invoke the API.
            context["identity"] |= {"userArn": CALLER_ARN, "caller": "AIDADEPLOYEDSHAPE"}
        elif route.authorization == "CUSTOM":
            allowed = self._authorize(route, method, path, headers, method_arn)
            if isinstance(allowed, Response):
                return allowed
            context["authorizer"] = allowed
        elif route.authorization != "NONE":
            raise NotImplementedError(f"AuthorizationType {route.authorization}")
        source_arn = arn("execute-api", f"{self.api_id}/{self.stage}/{method}{route.path}")
        if not self.cloud.service_may_invoke(
            route.function, "apigateway.amazonaws.com", source_arn
        ):
            return Response(500, '{"message":"Internal Server Error"}', {})
        text = body if isinstance(body, str) or body is None else json.dumps(body)
        event = {
            "version": "1.0",
            "resource": route.path,
            "path": path,
            "httpMethod": method,
            "headers": headers,
            "multiValueHeaders": {k: [v] for k, v in headers.items()},
            "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
            "multiValueQueryStringParameters": query or None,
            "pathParameters": path_parameters or None,
            "stageVariables": None,
            "requestContext": context,
            "body": text,
            "isBase64Encoded": False,
        }
        invocation = self.cloud.invoke(route.function, event, f"api {method} {path}")
        if invocation.error is not None or not isinstance(invocation.result, dict):
            return Response(500, '{"message":"Internal Server Error"}', {})
        result = invocation.result
        answer_headers = {
            k: v[0] if isinstance(v, list) else v
            for k, v in (result.get("multiValueHeaders") or result.get("headers") or {}).items()
        }
        return Response(int(result["statusCode"]), result.get("body") or "", answer_headers)

    def _authorize(
        self, route: _Route, method: str, path: str, headers: dict[str, str], method_arn: str
    ) -> dict[str, Any] | Response:
        authorizer = route.authorizer
        assert authorizer is not None
        if authorizer["AuthorizerType"] != "REQUEST":
            raise NotImplementedError(f"Authorizer type {authorizer['AuthorizerType']}")
        if authorizer.get("AuthorizerPayloadFormatVersion") != "1.0":
            raise NotImplementedError("Only IAM-policy (1.0) authorizers are played")
        values = []
        for source in authorizer.get("IdentitySource", []):
            header = source.removeprefix("$request.header.")
            value = next((v for k, v in headers.items() if k.lower() == header.lower()), None)
            if not value:  # a missing identity source: 401 without calling the authorizer
                return self.unauthorized
            values.append(value)
        key = (str(route.authorizer_id), "\0".join(values))
        cached = self._authorizer_cache.get(key)
        if cached is None or cached[0] < time.monotonic():
            process = self.cloud.function(_function_of_uri(authorizer["AuthorizerUri"]))
            source_arn = arn("execute-api", f"{self.api_id}/authorizers/{route.authorizer_id}")
            if not self.cloud.service_may_invoke(process, "apigateway.amazonaws.com", source_arn):
                return Response(500, '{"message":"Internal Server Error"}', {})
            event = {
                "version": "1.0",
                "type": "REQUEST",
                "methodArn": method_arn,
                "identitySource": ",".join(values),
                "authorizationToken": ",".join(values),
                "resource": route.path,
                "path": path,
                "httpMethod": method,
                "headers": headers,
                "queryStringParameters": {},
                "pathParameters": {},
                "stageVariables": {},
                "requestContext": {
                    "path": path,
                    "accountId": ACCOUNT,
                    "resourcePath": route.path,
                    "stage": self.stage,
                    "requestId": str(uuid.uuid4()),
                    "apiId": self.api_id,
                    "httpMethod": method,
                },
            }
            invocation = self.cloud.invoke(process, event, "api authorizer")
            if invocation.error is not None:
                return Response(500, '{"message":"Internal Server Error"}', {})
            ttl = int(authorizer.get("AuthorizerResultTtlInSeconds", 300))
            cached = (time.monotonic() + ttl, invocation.result)
            if ttl:
                self._authorizer_cache[key] = cached
        answer = cached[1]
        policy = Principal(
            role_arn=CALLER_ARN,
            account=ACCOUNT,
            region=REGION,
            statements=answer["policyDocument"]["Statement"],
        )
        if decide(policy, Request("execute-api:Invoke", method_arn)) is not None:
            return self.forbidden
        return {"principalId": answer.get("principalId"), **(answer.get("context") or {})}


def _function_of_uri(uri: str) -> str:
    match = re.search(r":lambda:path/2015-03-31/functions/(.+)/invocations$", uri)
    if match is None:
        raise NotImplementedError(f"Integration URI {uri}")
    return match.group(1)


# --- All of it ----------------------------------------------------------------------------


@dataclass
class Services:
    cloud: Cloud
    mappings: list[EventSourceMapping]
    rules: list[ScheduledRule]
    apis: list[ApiGateway]

    @classmethod
    def from_templates(cls, cloud: Cloud) -> Services:
        mappings, rules, apis = [], [], []
        for stack in cloud.deployment.stack_order():
            for logical_id in stack.of_type("AWS::Lambda::EventSourceMapping"):
                mappings.append(EventSourceMapping(cloud, stack, logical_id))
            for logical_id, rule in stack.of_type("AWS::Events::Rule").items():
                if "ScheduleExpression" in rule["Properties"]:
                    rules.append(ScheduledRule(cloud, stack, logical_id))
            for logical_id in stack.of_type("AWS::ApiGatewayV2::Api"):
                apis.append(ApiGateway(cloud, stack, logical_id))
        return cls(cloud=cloud, mappings=mappings, rules=rules, apis=apis)

    def poll_all(self) -> int:
        return sum(mapping.poll() for mapping in self.mappings)

    def fire_schedules(self) -> None:
        for rule in self.rules:
            rule.fire()


def start_functions(
    specs: list[FunctionSpec], *, endpoint_url: str, workdir: Path
) -> dict[str, FunctionProcess]:
    processes = {}
    for spec in specs:
        process = FunctionProcess(spec, endpoint_url=endpoint_url, workdir=workdir)
        process.start()
        processes[spec.arn] = process
    return processes
