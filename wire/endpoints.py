"""Where a call goes and how it is scoped: the endpoint URL of a service, (service, region) of an AWS host name.

Pure: the environment and profile settings come in as values (`env` is a
mapping, `profile_endpoint` the profile's `endpoint_url` already read).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from sigv4.errors import InvalidParameterError
from sigv4.s3hosts import S3_HOST, s3_bucket_of
from sigv4.types import Request

#: Global services: one endpoint, signed for this region whatever the caller's region.
SERVICE_ENDPOINT_REGIONS = {"account": "us-east-1", "organizations": "us-east-1", "route53": "us-east-1",
                            "cloudfront": "us-east-1"}
#: Global services whose one host name carries no region.
GLOBAL_HOSTS = {"route53": "route53.amazonaws.com", "cloudfront": "cloudfront.amazonaws.com"}


#: AWS's host names: the commercial and China partitions' and the dual-stack `api.aws` ones.
AWS_HOST = re.compile(r"^(?:[a-z0-9-]+\.)+(?:amazonaws\.com|amazonaws\.com\.cn|api\.aws)$")


def is_aws_host(host: str) -> bool:
    """Whether `host` (a name, no port) is an AWS endpoint's host name."""
    return bool(AWS_HOST.match(host.lower()))


def infer_scope(host: str | None) -> tuple[str | None, str | None]:
    """(service, region) from an AWS host name such as `account.us-east-1.amazonaws.com`; (None, None) otherwise."""
    if not host:
        return None, None
    name = host.split(":")[0].lower()
    if s3 := S3_HOST.search(name):  # virtual-hosted buckets: the bucket's labels come first
        return "s3", s3.group(1) or "us-east-1"
    labels = name.split(".")
    if len(labels) >= 4 and labels[-2:] == ["amazonaws", "com"]:
        return labels[0], labels[1]
    if len(labels) == 3 and labels[-2:] == ["amazonaws", "com"]:
        return labels[0], "us-east-1"
    return None, None


def service_endpoint(service: str, signing_name: str, region: str, env: Mapping[str, str],
                     override: str | None, profile_endpoint: str | None) -> tuple[str, str]:
    """(endpoint URL, signing region) as the AWS CLI resolves them: `override` (--endpoint-url), then
    AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL, the profile's endpoint_url, then the AWS host name."""
    signing_region = SERVICE_ENDPOINT_REGIONS.get(service) or region
    env_name = "AWS_ENDPOINT_URL_" + service.upper().replace("-", "_").replace(" ", "_")
    suffix = "amazonaws.com.cn" if signing_region.startswith("cn-") else "amazonaws.com"  # the China partition
    endpoint = (override or env.get(env_name) or env.get("AWS_ENDPOINT_URL") or profile_endpoint
                or f"https://{GLOBAL_HOSTS.get(service) or f'{signing_name or service}.{signing_region}.{suffix}'}")
    return endpoint, signing_region


def with_endpoint(request: Request, endpoint: str) -> Request:
    """`request` pointed at another scheme://host[:port]; path, query and headers stay as built.
    Raises InvalidParameterError when `endpoint` has no scheme."""
    target = Request("GET", endpoint)
    if not target.scheme:
        raise InvalidParameterError(f"--endpoint {endpoint!r}: expected http(s)://host[:port]")
    return request.with_url(f"{target.scheme}://{target.authority}{request.target}")
