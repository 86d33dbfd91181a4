"""Manage the API keys of a deployment in the "conductor-keys" mode.

    python -m baton.auth --table <MetadataTableName> create <name>   # prints keyId and keySecret
    python -m baton.auth --table <MetadataTableName> list
    python -m baton.auth --table <MetadataTableName> revoke <keyId>

The table name is the stateful stack's `MetadataTableName` output (or BATON_METADATA_TABLE);
credentials and region come from the usual AWS settings (profile, environment) or `--region`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

from baton import settings
from baton.auth.keys import create_key, list_keys, revoke_key
from baton.store.models import MetadataItem


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m baton.auth", description="Manage Baton's Conductor API keys."
    )
    parser.add_argument(
        "--table",
        default=os.environ.get(settings.METADATA_TABLE),
        help=f"metadata table name (default: ${settings.METADATA_TABLE})",
    )
    parser.add_argument("--region", help="AWS region (default: from the AWS profile/environment)")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="create a key and print its id and secret once")
    create.add_argument("name", help="what the key is for, e.g. 'ci-workers'")
    commands.add_parser("list", help="list keys (ids, names, creation times; never secrets)")
    revoke = commands.add_parser("revoke", help="delete a key; its tokens stop working")
    revoke.add_argument("key_id")
    return parser


def _point_at(table: str | None, region: str | None) -> None:
    """Aim the metadata model at the deployed table (it read its defaults at import)."""
    if not table:
        raise SystemExit(
            f"No table: pass --table with the stack's MetadataTableName output "
            f"or set {settings.METADATA_TABLE}"
        )
    MetadataItem.Meta.table_name = table
    if region is None:
        import boto3  # the profile's region, which pynamodb alone would not read

        region = boto3.session.Session().region_name
    if region:
        MetadataItem.Meta.region = region


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    _point_at(args.table, args.region)
    if args.command == "create":
        key_id, key_secret = create_key(args.name)
        print(json.dumps({"keyId": key_id, "keySecret": key_secret}, indent=2))
        print("Store the secret now: it is not kept and cannot be shown again.", file=sys.stderr)
        return 0
    if args.command == "list":
        for key in list_keys():
            created = datetime.fromtimestamp(key.created_at / 1000, tz=UTC).isoformat()
            print(f"{key.key_id}\t{created}\t{key.name}")
        return 0
    if revoke_key(args.key_id):
        print(f"Revoked {args.key_id}", file=sys.stderr)
        return 0
    print(f"No key {args.key_id}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
