"""Encode + decode per operation: `wire` against botocore's serializer and
parser, on the same models and the same bytes, in one run.

Run: `python benchmarks/bench_wire.py [--quick]`. For each operation it
prints the microseconds per call of both and the ratio wire/botocore for
encoding, decoding and the two together (the issue's target: encode + decode
at most 0.5 of botocore's time). Encoding is params -> request with the
endpoint applied and the params checked, as each library's clients run it
(botocore: `serialize_to_request` with its validation, form bodies
percent-encoded, `prepare_request_dict`); the last columns show botocore
with its validation off (`include_validation=False`), for comparison. Decoding
is the same response bytes -> dict. The libraries take turns within each
round, best of the rounds.
"""

from __future__ import annotations

import sys
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
from interleaved import best_us  # noqa: E402  (benchmarks/, beside this script)

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
        {"RoleArn": "arn:aws:iam::123456789012:role/demo", "RoleSessionName": "session", "DurationSeconds": 900, "Tags": [{"Key": "k", "Value": "v"}]},
        {
            "Credentials": {"AccessKeyId": "AKID", "SecretAccessKey": "secret", "SessionToken": "token", "Expiration": NOW},
            "AssumedRoleUser": {"AssumedRoleId": "AROA:s", "Arn": "arn:aws:sts::123456789012:assumed-role/demo/s"},
        },
    ),
    (
        "sqs",
        "SendMessage",
        {"QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/jobs", "MessageBody": "hello " * 20,
         "MessageAttributes": {"kind": {"DataType": "String", "StringValue": "resize"}}},
        {"MessageId": "5fea7756-0ea4-451a-a703-a558b933e274", "MD5OfMessageBody": "fafb00f5732ab283681e124bf8747ed1",
         "MD5OfMessageAttributes": "3ae8f24a165a8cedc005670c81a27295"},
    ),
    (
        "iam",
        "GetUser",
        {"UserName": "ana"},
        {"User": {"Path": "/", "UserName": "ana", "UserId": "AIDACKCEVSQ6C2EXAMPLE",
                  "Arn": "arn:aws:iam::123456789012:user/ana", "CreateDate": NOW, "Tags": [{"Key": "team", "Value": "x"}]}},
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
    (
        "s3",
        "ListObjectsV2",
        {"Bucket": "my-bucket", "Prefix": "logs/", "MaxKeys": 20},
        {"Name": "my-bucket", "Prefix": "logs/", "KeyCount": 20, "IsTruncated": False,
         "Contents": [{"Key": f"logs/{i}.gz", "LastModified": NOW, "ETag": '"e"', "Size": 1024 * i, "StorageClass": "STANDARD"}
                      for i in range(20)]},
    ),
    (
        "route53",
        "ChangeResourceRecordSets",
        {"HostedZoneId": "Z1", "ChangeBatch": {"Changes": [
            {"Action": "UPSERT", "ResourceRecordSet": {"Name": f"h{i}.example.com", "Type": "A", "TTL": 60,
                                                       "ResourceRecords": [{"Value": f"192.0.2.{i}"}]}} for i in range(5)]}},
        {"ChangeInfo": {"Id": "C1", "Status": "PENDING", "SubmittedAt": NOW}},
    ),
    (
        # Smithy RPCv2 CBOR: CloudWatch's model names it first (its clients pick awsJson1_0 from the list).
        "cloudwatch",
        "PutMetricData",
        {
            "Namespace": "App",
            "MetricData": [
                {"MetricName": "Latency", "Dimensions": [{"Name": "Host", "Value": f"h-{i}"}], "Timestamp": NOW, "Value": 1.5 * i, "Unit": "Milliseconds"}
                for i in range(5)
            ],
        },
        {},
    ),
    (
        "cloudwatch",
        "GetMetricData",
        {
            "MetricDataQueries": [{"Id": "q", "MetricStat": {"Metric": {"Namespace": "App", "MetricName": "Latency"}, "Period": 60, "Stat": "Average"}}],
            "StartTime": NOW,
            "EndTime": NOW,
        },
        {"MetricDataResults": [{"Id": "q", "Label": "Latency", "Timestamps": [NOW] * 20, "Values": [float(i) for i in range(20)], "StatusCode": "Complete"}]},
    ),
]


def main() -> None:
    quick = "--quick" in sys.argv
    number, rounds = (50, 3) if quick else (500, 20)
    print(f"best of {rounds} interleaved rounds of {number} calls; botocore serializes as its clients do, validating")
    print(f"{'operation':34} {'':15} {'wire µs':>9} {'botocore µs':>12} {'ratio':>7} {'unvalidated':>12} {'ratio':>7}")
    ratios: list[float] = []
    unvalidated_ratios: list[float] = []
    only = [arg for arg in sys.argv[1:] if not arg.startswith("--")]
    for service, operation, params, output in CASES:
        if only and f"{service}.{operation}" not in only:
            continue
        raw = Loader().load_service_model(service, "service-2")
        botocore_model = ServiceModel(raw, service)
        model = wire.load_model(raw, protocol=botocore_model.metadata["protocol"])
        op_model = botocore_model.operation_model(operation)
        # A botocore client validates params as it serializes them (parameter_validation, on by default), as
        # wire.serialize does (types and required members; botocore also checks minimum lengths and values).
        serializer = create_serializer(botocore_model.metadata["protocol"], include_validation=True)
        unvalidated = create_serializer(botocore_model.metadata["protocol"], include_validation=False)
        parser = create_parser(botocore_model.metadata["protocol"])
        status, headers, body = wire.serialize_response(model, operation, output)

        def ours_encode() -> None:
            wire.serialize(model, operation, params, endpoint=ENDPOINT)

        def theirs_encode(serializer: Any = serializer) -> None:
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

        us = best_us({"ours encode": ours_encode, "theirs encode": theirs_encode,
                       "theirs unvalidated": lambda: theirs_encode(unvalidated),
                       "ours decode": ours_decode, "theirs decode": theirs_decode}, number, rounds)
        name = f"{service}.{operation}"
        ours_total, theirs_total = us["ours encode"] + us["ours decode"], us["theirs encode"] + us["theirs decode"]
        unvalidated_total = us["theirs unvalidated"] + us["theirs decode"]
        rows = [("encode", us["ours encode"], us["theirs encode"], us["theirs unvalidated"]),
                ("decode", us["ours decode"], us["theirs decode"], us["theirs decode"]),
                ("encode + decode", ours_total, theirs_total, unvalidated_total)]
        for label, a, b, c in rows:
            print(f"{name:34} {label:15} {a:9.1f} {b:12.1f} {a / b:7.2f} {c:12.1f} {a / c:7.2f}")
        ratios.append(ours_total / theirs_total)
        unvalidated_ratios.append(ours_total / unvalidated_total)
    print(f"encode + decode, geometric mean of the ratios: {_geomean(ratios):.2f}, worst {max(ratios):.2f} "
          f"(target: each <= 0.33); against botocore with validation off: {_geomean(unvalidated_ratios):.2f}, "
          f"worst {max(unvalidated_ratios):.2f}")


def _geomean(values: list[float]) -> float:
    product = 1.0
    for value in values:
        product *= value
    return product ** (1 / len(values))


if __name__ == "__main__":
    main()
