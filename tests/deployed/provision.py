"""Creating a synthesized deployment's resources in moto from their CloudFormation properties."""

from __future__ import annotations

import json
from typing import Any

from tests.deployed.cloud import ACCOUNT, REGION, Deployment, Physical, Stack, arn, physical_name

_GENERATE_SECRET_KEYS = (
    "ExcludeCharacters",
    "ExcludeLowercase",
    "ExcludeNumbers",
    "ExcludePunctuation",
    "ExcludeUppercase",
    "IncludeSpace",
    "PasswordLength",
    "RequireEachIncludedType",
)


class Provisioner:
    """Walks every stack in dependency order, creating what moto can hold and naming the rest."""

    def __init__(
        self, deployment: Deployment, *, dynamodb: Any, sqs: Any, secrets: Any, s3: Any
    ) -> None:
        self.deployment = deployment
        self.dynamodb = dynamodb
        self.sqs = sqs
        self.secrets = secrets
        self.s3 = s3

    def provision(self) -> None:
        for stack in self.deployment.stack_order():
            for logical_id in self.deployment.creation_order(stack):
                resource = stack.resources[logical_id]
                self.deployment.physical[(stack.name, logical_id)] = self._create(
                    stack, logical_id, resource["Type"], resource.get("Properties", {})
                )
            self.deployment.add_exports(stack)

    def _create(self, stack: Stack, logical_id: str, type_: str, raw: dict[str, Any]) -> Physical:
        resolve = self.deployment.resolve
        if type_ in ("AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable"):
            return self._table(stack, logical_id, resolve(stack, raw))
        if type_ == "AWS::SQS::Queue":
            return self._queue(stack, logical_id, resolve(stack, raw))
        if type_ == "AWS::SecretsManager::Secret":
            return self._secret(stack, logical_id, resolve(stack, raw))
        if type_ == "AWS::S3::Bucket":
            return self._bucket(stack, logical_id, resolve(stack, raw))
        if type_ == "AWS::Lambda::Function":
            name = resolve(stack, raw.get("FunctionName")) or physical_name(stack, logical_id)
            return Physical(name, {"Arn": arn("lambda", f"function:{name}")})
        if type_ == "AWS::IAM::Role":
            name = resolve(stack, raw.get("RoleName")) or physical_name(stack, logical_id)
            return Physical(name, {"Arn": f"arn:aws:iam::{ACCOUNT}:role/{name}", "RoleId": name})
        if type_ == "AWS::Logs::LogGroup":
            name = resolve(stack, raw.get("LogGroupName")) or physical_name(stack, logical_id, 512)
            return Physical(name, {"Arn": arn("logs", f"log-group:{name}:*")})
        if type_ == "AWS::Events::Rule":
            name = resolve(stack, raw.get("Name")) or physical_name(stack, logical_id)
            return Physical(name, {"Arn": arn("events", f"rule/{name}")})
        if type_ == "AWS::ApiGatewayV2::Api":
            api_id = f"api{abs(hash(logical_id)) % 10**6:06d}"
            return Physical(
                api_id, {"ApiEndpoint": f"https://{api_id}.execute-api.{REGION}.amazonaws.com"}
            )
        if type_ == "AWS::ApiGatewayV2::Stage":
            return Physical(resolve(stack, raw["StageName"]))
        # Anything else only needs a name to be referred to by.
        return Physical(physical_name(stack, logical_id))

    def _table(self, stack: Stack, logical_id: str, properties: dict[str, Any]) -> Physical:
        name = properties.get("TableName") or physical_name(stack, logical_id, 255)
        billing = properties.get("BillingMode", "PROVISIONED")
        request: dict[str, Any] = {
            "TableName": name,
            "KeySchema": properties["KeySchema"],
            "AttributeDefinitions": properties["AttributeDefinitions"],
            "BillingMode": billing,
        }
        if billing == "PROVISIONED":
            request["ProvisionedThroughput"] = properties["ProvisionedThroughput"]
        indexes = []
        for index in properties.get("GlobalSecondaryIndexes", []):
            declared = {k: index[k] for k in ("IndexName", "KeySchema", "Projection")}
            if billing == "PROVISIONED":
                declared["ProvisionedThroughput"] = index["ProvisionedThroughput"]
            indexes.append(declared)
        if indexes:
            request["GlobalSecondaryIndexes"] = indexes
        if properties.get("LocalSecondaryIndexes"):
            request["LocalSecondaryIndexes"] = properties["LocalSecondaryIndexes"]
        stream = properties.get("StreamSpecification")
        if stream:
            request["StreamSpecification"] = {"StreamEnabled": True, **stream}
        description = self.dynamodb.create_table(**request)["TableDescription"]
        ttl = properties.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            self.dynamodb.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True},
            )
        attributes = {"Arn": description["TableArn"]}
        if "LatestStreamArn" in description:
            attributes["StreamArn"] = description["LatestStreamArn"]
        return Physical(name, attributes)

    def _queue(self, stack: Stack, logical_id: str, properties: dict[str, Any]) -> Physical:
        fifo = bool(properties.get("FifoQueue"))
        name = properties.get("QueueName") or physical_name(stack, logical_id, 75)
        if fifo and not name.endswith(".fifo"):
            name += ".fifo"
        attributes: dict[str, str] = {}
        for key, value in properties.items():
            if key in ("QueueName", "Tags"):
                continue
            if key in ("RedrivePolicy", "RedriveAllowPolicy"):
                attributes[key] = json.dumps(value)
            elif isinstance(value, bool):
                attributes[key] = "true" if value else "false"
            else:
                attributes[key] = str(value)
        url = self.sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        queue_arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        return Physical(url, {"Arn": queue_arn, "QueueName": name, "QueueUrl": url})

    def _bucket(self, stack: Stack, logical_id: str, properties: dict[str, Any]) -> Physical:
        name = properties.get("BucketName") or physical_name(stack, logical_id, 63).lower()
        self.s3.create_bucket(Bucket=name)
        if "BucketEncryption" in properties:
            # CloudFormation's rule says ServerSideEncryptionByDefault, S3's API says
            # ApplyServerSideEncryptionByDefault.
            rules = [
                {
                    "ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"],
                    **(
                        {"BucketKeyEnabled": rule["BucketKeyEnabled"]}
                        if "BucketKeyEnabled" in rule
                        else {}
                    ),
                }
                for rule in properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
            ]
            self.s3.put_bucket_encryption(
                Bucket=name, ServerSideEncryptionConfiguration={"Rules": rules}
            )
        if "PublicAccessBlockConfiguration" in properties:
            self.s3.put_public_access_block(
                Bucket=name,
                PublicAccessBlockConfiguration=properties["PublicAccessBlockConfiguration"],
            )
        if "OwnershipControls" in properties:
            self.s3.put_bucket_ownership_controls(
                Bucket=name, OwnershipControls=properties["OwnershipControls"]
            )
        return Physical(name, {"Arn": f"arn:aws:s3:::{name}", "DomainName": name})

    def _secret(self, stack: Stack, logical_id: str, properties: dict[str, Any]) -> Physical:
        name = properties.get("Name") or physical_name(stack, logical_id, 512)
        value = properties.get("SecretString")
        if value is None:
            generate = properties.get("GenerateSecretString", {})
            options = {k: generate[k] for k in _GENERATE_SECRET_KEYS if k in generate}
            value = self.secrets.get_random_password(**options)["RandomPassword"]
            if "SecretStringTemplate" in generate:
                value = json.dumps(
                    {
                        **json.loads(generate["SecretStringTemplate"]),
                        generate["GenerateStringKey"]: value,
                    }
                )
        secret_arn = self.secrets.create_secret(Name=name, SecretString=value)["ARN"]
        return Physical(secret_arn, {"Id": secret_arn, "Name": name})
