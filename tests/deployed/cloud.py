"""A synthesized Baton "deployed" into moto: resources created from the templates' own
CloudFormation properties, and CloudFormation's intrinsic functions resolved to their names
and ARNs.

Nothing here reads Baton's Python models or topology: a table key, an index, a TTL attribute
or a redrive policy exists in moto only because the template declares it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ACCOUNT = "123456789012"
REGION = "us-east-1"
PARTITION = "aws"

_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


# AWS's public Powertools layer parameters: /aws/service/powertools/python/<arch>/python<x.y>/<v>
POWERTOOLS_PARAMETER = re.compile(
    r"^/aws/service/powertools/python/(arm64|x86_64)/python(\d+)\.(\d+)/(\d+\.\d+\.\d+)$"
)


def public_ssm_parameter(name: str) -> str:
    """What CloudFormation reads from one of AWS's public SSM parameters the stacks name."""
    match = POWERTOOLS_PARAMETER.match(name)
    if match is None:
        raise KeyError(f"SSM parameter {name} is not known to the deployed-shape test")
    architecture, major, minor, _version = match.groups()
    return (
        f"arn:aws:lambda:{REGION}:017000801446:layer:"
        f"AWSLambdaPowertoolsPythonV3-python{major}{minor}-{architecture}:1"
    )


@dataclass
class Stack:
    name: str
    template: dict[str, Any]

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return dict(self.template.get("Resources", {}))

    def of_type(self, type_: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.resources.items() if v["Type"] == type_}


@dataclass
class Physical:
    """What CloudFormation would report for one resource: its Ref and its attributes."""

    ref: str
    attributes: dict[str, str] = field(default_factory=dict)


def cloud_assembly(outdir: Path) -> list[Stack]:
    """The assembly's stacks, each after the stacks it depends on."""
    manifest = json.loads((outdir / "manifest.json").read_text())
    artifacts = {
        name: artifact
        for name, artifact in manifest["artifacts"].items()
        if artifact["type"] == "aws:cloudformation:stack"
    }
    ordered: list[str] = []

    def visit(name: str) -> None:
        if name in ordered:
            return
        for dependency in artifacts[name].get("dependencies", []):
            if dependency in artifacts:
                visit(dependency)
        ordered.append(name)

    for name in artifacts:
        visit(name)
    return [
        Stack(
            name=name,
            template=json.loads(
                (outdir / artifacts[name]["properties"]["templateFile"]).read_text()
            ),
        )
        for name in ordered
    ]


def asset_directories(outdir: Path) -> dict[str, Path]:
    """S3 object key (what a function's Code names) -> the staged asset folder."""
    found: dict[str, Path] = {}
    for manifest in outdir.glob("*.assets.json"):
        for asset in json.loads(manifest.read_text()).get("files", {}).values():
            if asset["source"].get("packaging") != "zip":
                continue
            for destination in asset["destinations"].values():
                found[destination["objectKey"]] = outdir / asset["source"]["path"]
    return found


def _references(value: Any) -> Iterator[str]:
    """Logical ids a property value refers to (Ref, Fn::GetAtt, Fn::Sub)."""
    if isinstance(value, dict):
        if "Ref" in value and isinstance(value["Ref"], str):
            yield value["Ref"]
        if "Fn::GetAtt" in value:
            target = value["Fn::GetAtt"]
            yield target[0] if isinstance(target, list) else target.split(".")[0]
        if "Fn::Sub" in value:
            text = value["Fn::Sub"] if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"][0]
            for match in _SUB_VARIABLE.finditer(text):
                yield match.group(1).split(".")[0]
        for item in value.values():
            yield from _references(item)
    elif isinstance(value, list):
        for item in value:
            yield from _references(item)


class Deployment:
    """Physical resources by stack and logical id, exports, and the intrinsic resolver."""

    def __init__(self, stacks: list[Stack]) -> None:
        self.stacks = {stack.name: stack for stack in stacks}
        self.physical: dict[tuple[str, str], Physical] = {}
        self.exports: dict[str, Any] = {}

    def ref_of(self, attribute: str, value: str) -> str:
        """The Ref of the resource whose `attribute` is `value` (a queue's URL by its ARN)."""
        for physical in self.physical.values():
            if physical.attributes.get(attribute) == value:
                return physical.ref
        raise KeyError(f"No resource has {attribute} {value}")

    def stack_order(self) -> list[Stack]:
        return list(self.stacks.values())

    @staticmethod
    def creation_order(stack: Stack) -> list[str]:
        """Logical ids, each after the resources it refers to (as CloudFormation creates)."""
        resources = stack.resources
        ordered: list[str] = []
        visiting: set[str] = set()

        def visit(logical_id: str) -> None:
            if logical_id in ordered or logical_id not in resources:
                return
            if logical_id in visiting:
                raise ValueError(f"{stack.name}: circular reference through {logical_id}")
            visiting.add(logical_id)
            resource = resources[logical_id]
            depends = resource.get("DependsOn", [])
            for dependency in [
                *_references(resource),
                *([depends] if isinstance(depends, str) else depends),
            ]:
                visit(dependency)
            visiting.discard(logical_id)
            ordered.append(logical_id)

        for logical_id in resources:
            visit(logical_id)
        return ordered

    def add_exports(self, stack: Stack) -> None:
        for output in stack.template.get("Outputs", {}).values():
            if "Export" in output:
                name = self.resolve(stack, output["Export"]["Name"])
                self.exports[name] = self.resolve(stack, output["Value"])

    # --- intrinsic functions ---------------------------------------------------------------

    def _pseudo(self, stack: Stack, name: str) -> Any:
        pseudo = {
            "AWS::AccountId": ACCOUNT,
            "AWS::Region": REGION,
            "AWS::Partition": PARTITION,
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": stack.name,
            "AWS::StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{stack.name}/1",
        }
        if name in pseudo:
            return pseudo[name]
        parameter = stack.template.get("Parameters", {}).get(name)
        if parameter is not None:
            if str(parameter.get("Type", "")).startswith("AWS::SSM::Parameter::Value"):
                return public_ssm_parameter(parameter["Default"])
            return parameter.get("Default")
        raise KeyError(f"{stack.name}: Ref to unknown name {name}")

    def ref(self, stack: Stack, logical_id: str) -> str:
        physical = self.physical.get((stack.name, logical_id))
        if physical is None:
            return str(self._pseudo(stack, logical_id))
        return physical.ref

    def get_att(self, stack: Stack, logical_id: str, attribute: str) -> str:
        physical = self.physical.get((stack.name, logical_id))
        if physical is None or attribute not in physical.attributes:
            type_ = stack.resources.get(logical_id, {}).get("Type")
            raise KeyError(
                f"{stack.name}: Fn::GetAtt {logical_id}.{attribute} ({type_}) is not known to the "
                "deployed-shape test: add it where that resource type is provisioned"
            )
        return physical.attributes[attribute]

    def resolve(self, stack: Stack, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(stack, item) for item in value if item != {"Ref": "AWS::NoValue"}]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref":
                return self.ref(stack, argument)
            if key == "Fn::GetAtt":
                logical_id, attribute = (
                    argument if isinstance(argument, list) else argument.split(".", 1)
                )
                return self.get_att(stack, logical_id, attribute)
            if key == "Fn::Join":
                separator, items = argument
                return separator.join(str(item) for item in self.resolve(stack, items))
            if key == "Fn::Sub":
                return self._sub(stack, argument)
            if key == "Fn::ImportValue":
                name = self.resolve(stack, argument)
                if name not in self.exports:
                    raise KeyError(
                        f"{stack.name}: Fn::ImportValue of {name}, which no stack exports"
                    )
                return self.exports[name]
            if key == "Fn::Select":
                index, items = argument
                return self.resolve(stack, items)[int(self.resolve(stack, index))]
            if key == "Fn::Split":
                separator, text = argument
                return str(self.resolve(stack, text)).split(separator)
            if key == "Fn::ToJsonString":
                return json.dumps(self.resolve(stack, argument), separators=(",", ":"))
            if key.startswith("Fn::"):
                raise ValueError(f"{stack.name}: {key} is not supported by the deployed-shape test")
        return {key: self.resolve(stack, item) for key, item in value.items()}

    def _sub(self, stack: Stack, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        resolved = {name: self.resolve(stack, item) for name, item in variables.items()}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in resolved:
                return str(resolved[name])
            if "." in name and not name.startswith("AWS::"):
                logical_id, attribute = name.split(".", 1)
                return self.get_att(stack, logical_id, attribute)
            return self.ref(stack, name)

        return _SUB_VARIABLE.sub(replace, text)


def arn(service: str, resource: str, *, region: str = REGION) -> str:
    return f"arn:{PARTITION}:{service}:{region}:{ACCOUNT}:{resource}"


def physical_name(stack: Stack, logical_id: str, limit: int = 64) -> str:
    """A generated name, as CloudFormation makes one for a resource that names none."""
    return f"{stack.name}-{logical_id}"[:limit]
