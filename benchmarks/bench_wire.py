"""Encode + decode per operation: `wire` against botocore's serializer and
parser, on the same models and the same bytes, in one run.

Run: `python benchmarks/bench_wire.py`. For each operation it prints the
microseconds per call of both and the ratio wire/botocore (the issue's target
is at most 0.5). Encoding is params -> request with the endpoint applied
(botocore: `serialize_to_request`, form bodies percent-encoded, `prepare_request_dict`); decoding is the
same response bytes -> dict.
"""

from __future__ import annotations

import sys
import timeit
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from botocore.awsrequest import HeadersDict, prepare_request_dict
from botocore.loaders import Loader
from botocore.model import ServiceModel
from botocore.parsers import create_parser
from botocore.serialize import create_serializer
from botocore.utils import percent_encode_sequence

# The editable install predates `wire/__init__.py`; run against this checkout.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import wire  # noqa: E402

ENDPOINT = "https://service.us-east-1.amazonaws.com"
NOW = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)

#: (service, operation, params, output)
CASES: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = [
    (
        "account",
        "PutAlternateContact",
        {"AlternateContactType": "BILLING", "Name": "Ana", "Title": "CFO", "EmailAddress": "a@example.com", "PhoneNumber": "+1 555"},
        {},
    ),
    (
        "account",
        "ListRegions",
        {"MaxResults": 20, "RegionOptStatusContains": ["ENABLED", "ENABLING"]},
        {"Regions": [{"RegionName": f"r-{i}", "RegionOptStatus": "ENABLED"} for i in range(20)], "NextToken": "n"},
    ),
    (
        "sts",
        "AssumeRole",
        {"RoleArn": "arn:aws:iam::123456789012:role/demo", "RoleSessionName": "s", "DurationSeconds": 900, "Tags": [{"Key": "k", "Value": "v"}]},
        {
            "Credentials": {"AccessKeyId": "AKID", "SecretAccessKey": "secret", "SessionToken": "token", "Expiration": NOW},
            "AssumedRoleUser": {"AssumedRoleId": "AROA:s", "Arn": "arn:aws:sts::123456789012:assumed-role/demo/s"},
        },
    ),
    (
        "dynamodb",
        "PutItem",
        {"TableName": "t", "Item": {"pk": {"S": "a"}, "n": {"N": "1"}, "l": {"L": [{"S": "x"}, {"BOOL": True}]}}},
        {"Attributes": {"pk": {"S": "a"}}, "ConsumedCapacity": {"TableName": "t", "CapacityUnits": 1.0}},
    ),
    (
        "ec2",
        "DescribeInstances",
        {"Filters": [{"Name": "instance-state-name", "Values": ["running", "stopped"]}], "MaxResults": 50},
        {"Reservations": [{"ReservationId": f"r-{i}", "Instances": [{"InstanceId": f"i-{i}", "LaunchTime": NOW}]} for i in range(5)]},
    ),
]


def _per_call_us(func: Any, number: int) -> float:
    return min(timeit.repeat(func, number=number, repeat=5)) / number * 1e6


def main() -> None:
    print(f"{'operation':34} {'':6} {'wire µs':>9} {'botocore µs':>12} {'ratio':>7}")
    ratios = []
    for service, operation, params, output in CASES:
        raw = Loader().load_service_model(service, "service-2")
        model = wire.load_model(raw)
        botocore_model = ServiceModel(raw, service)
        op_model = botocore_model.operation_model(operation)
        serializer = create_serializer(botocore_model.metadata["protocol"], include_validation=False)
        parser = create_parser(botocore_model.metadata["protocol"])
        status, headers, body = wire.serialize_response(model, operation, output)

        def ours_encode() -> None:
            wire.serialize(model, operation, params, endpoint=ENDPOINT)

        def theirs_encode() -> None:
            request = serializer.serialize_to_request(params, op_model)
            if isinstance(request["body"], dict):
                # botocore leaves form bodies as dicts until its HTTP layer encodes them.
                request["body"] = percent_encode_sequence(request["body"]).encode()
            prepare_request_dict(request, endpoint_url=ENDPOINT)

        def ours_decode() -> None:
            wire.parse_response(model, operation, status, headers, body)

        def theirs_decode() -> None:
            response = {"status_code": status, "headers": HeadersDict(dict(headers)), "body": body}
            parser.parse(response, op_model.output_shape)

        for label, ours, theirs in (("encode", ours_encode, theirs_encode), ("decode", ours_decode, theirs_decode)):
            a, b = _per_call_us(ours, 2000), _per_call_us(theirs, 2000)
            ratios.append(a / b)
            print(f"{service + '.' + operation:34} {label:6} {a:9.1f} {b:12.1f} {a / b:7.2f}")
    print(f"geometric mean ratio: {_geomean(ratios):.2f} (target <= 0.5)")


def _geomean(values: list[float]) -> float:
    product = 1.0
    for value in values:
        product *= value
    return product ** (1 / len(values))


if __name__ == "__main__":
    main()
