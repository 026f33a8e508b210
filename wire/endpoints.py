"""Where a call goes and how it is scoped: the endpoint URL of a service, (service, region) of an AWS host name.

Pure: the environment and profile settings come in as values (`env` is a
mapping, `EndpointConfig` what the profile's shared config says, already read).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from sigv4.errors import InvalidParameterError
from sigv4.s3hosts import S3_HOST
from sigv4.tokens import region_in_host
from sigv4.types import Request

#: Global services: one endpoint, signed for this region whatever the caller's region.
SERVICE_ENDPOINT_REGIONS = {"account": "us-east-1", "organizations": "us-east-1", "route53": "us-east-1",
                            "cloudfront": "us-east-1"}
#: Global services whose one host name carries no region.
GLOBAL_HOSTS = {"route53": "route53.amazonaws.com", "cloudfront": "cloudfront.amazonaws.com"}
#: Global endpoints' region-less host names -> the one region whose scope they answer (botocore's `aws-global`
#: endpoints, and STS's global one).
GLOBAL_ENDPOINT_REGIONS = dict.fromkeys(
    ["iam.amazonaws.com", "sts.amazonaws.com", *GLOBAL_HOSTS.values(), "budgets.amazonaws.com",
     "importexport.amazonaws.com", "savingsplans.amazonaws.com", "waf.amazonaws.com"],
    "us-east-1")


#: AWS's host names: the commercial and China partitions' and the dual-stack `api.aws` ones.
AWS_HOST = re.compile(r"^(?:[a-z0-9-]+\.)+(?:amazonaws\.com|amazonaws\.com\.cn|api\.aws)$")


def is_aws_host(host: str) -> bool:
    """Whether `host` (a name, no port) is an AWS endpoint's host name."""
    return bool(AWS_HOST.match(host.lower()))


#: Host name prefixes (the labels before the region) signed for another name: botocore's endpointPrefix ->
#: signingName where the two differ and the prefix's last label is not the signing name, plus Lambda function
#: URLs. Any other prefix signs as its last label (`runtime.sagemaker`, `<api id>.execute-api`, `vpce-1.sts`).
SIGNING_NAMES = {
    **dict.fromkeys(["bedrock-runtime", "bedrock-agent", "bedrock-agent-runtime", "bedrock-data-automation",
                     "bedrock-data-automation-runtime"], "bedrock"),
    **dict.fromkeys(["identity-chime", "media-pipelines-chime", "meetings-chime", "messaging-chime", "voice-chime"],
                    "chime"),
    **dict.fromkeys(["marketplace", "agreement-marketplace", "deployment-marketplace", "discovery-marketplace",
                     "reporting-marketplace"], "aws-marketplace"),
    **dict.fromkeys(["models-v2-lex", "runtime-v2-lex"], "lex"),
    **dict.fromkeys(["personalize-events", "personalize-runtime"], "personalize"),
    **dict.fromkeys(["email", "mail-manager"], "ses"),
    "appconfigdata": "appconfig", "appstream2": "appstream", "bedrock-agentcore-control": "bedrock-agentcore",
    "cassandra-streams": "cassandra", "cloudhsmv2": "cloudhsm", "cloudsearchdomain": "cloudsearch",
    "contact-lens": "connect", "forecastquery": "forecast", "ivsrealtime": "ivs", "memory-db": "memorydb",
    "migrationhub-config": "mgh", "pinpoint": "mobiletargeting", "sms-voice.pinpoint": "sms-voice",
    "s3-control": "s3", "servicecatalog-appregistry": "servicecatalog", "data-signer": "signer", "oidc": "sso-oauth",
    "portal.sso": "awsssoportal", "data-ats.iot": "iotdata", "data.jobs.iot": "iot-jobs-data",
    "api.tunneling.iot": "IoTSecuredTunneling", "data.iotevents": "ioteventsdata", "participant.connect": "execute-api",
    "lambda-url": "lambda",
}
#: The label sequences AWS host names end in (the commercial and China partitions, dual-stack, VPC endpoints,
#: Lambda function URLs), longest first.
_HOST_SUFFIXES = (("amazonaws", "com", "cn"), ("vpce", "amazonaws", "com"), ("amazonaws", "com"), ("api", "aws"),
                  ("on", "aws"))


def infer_scope(host: str | None) -> tuple[str | None, str | None]:
    """(service, region) from an AWS host name such as `account.us-east-1.amazonaws.com`: the signing name of the
    labels before the region (`SIGNING_NAMES`; `bedrock-runtime.us-west-2...` is `bedrock`), or the label after it
    (OpenSearch's `search-logs.us-east-1.es...`); (None, None) for a name that does not say."""
    if not host:
        return None, None
    name = host.split(":")[0].lower()
    if s3 := S3_HOST.search(name):  # virtual-hosted buckets: the bucket's labels come first
        return "s3", s3.group(1) or "us-east-1"
    labels = name.split(".")
    suffix = next((len(end) for end in _HOST_SUFFIXES if tuple(labels[-len(end):]) == end), None)
    if suffix is None or len(labels) <= suffix:
        return None, None
    labels = labels[:-suffix]
    at = next((i for i, label in enumerate(labels) if region_in_host(label) == label), None)
    if at is None:  # a global endpoint (`iam.amazonaws.com`)
        return (_signing_name(labels), "us-east-1") if len(labels) == 1 else (None, None)
    before, after = labels[:at], labels[at + 1:]
    return (after[-1] if after else _signing_name(before) if before else None), labels[at]


def _signing_name(prefix: list[str]) -> str:
    # IoT's data endpoint is account-specific (`a1b2c3-ats.iot`): botocore's prefix for it is `data-ats.iot`.
    prefix = ["data-ats" if label.endswith("-ats") else label for label in prefix]
    joined = (".".join(prefix[i:]) for i in range(len(prefix)))
    return next((SIGNING_NAMES[name] for name in joined if name in SIGNING_NAMES), prefix[-1])


@dataclass(frozen=True, slots=True)
class EndpointConfig:
    """What a profile of the shared config says of endpoints (botocore's configured endpoint URLs): its
    `endpoint_url`, the `endpoint_url` of each service in the `[services NAME]` section it names (by
    `endpoint_key`: `s3`, `elastic_beanstalk`), and its `ignore_configured_endpoint_urls`."""

    endpoint_url: str | None = None
    services: tuple[tuple[str, str], ...] = ()
    ignore: bool = False


def endpoint_key(service: str, service_id: str = "") -> str:
    """The service's name in AWS_ENDPOINT_URL_<KEY> (upper case) and in a `[services]` section (as is): the model's
    service id in snake case (`Elastic Beanstalk` -> `elastic_beanstalk`), else the client name's (`sso-oidc`)."""
    return (service_id or service).replace(" ", "_").replace("-", "_").lower()


def service_endpoint(service: str, signing_name: str, region: str, env: Mapping[str, str],
                     override: str | None, configured: EndpointConfig | None, *,
                     service_id: str = "") -> tuple[str, str]:
    """(endpoint URL, signing region) as the AWS CLI resolves them: `override` (--endpoint-url), then
    AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL, the profile's `[services]` section's endpoint_url for the
    service, the profile's endpoint_url (none of these four when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS, else the
    profile's ignore_configured_endpoint_urls, is true), then the AWS host name. `service` is the client name
    (`apigateway`), `service_id` the model's service id (`API Gateway`), which names the variable and the key
    (`endpoint_key`)."""
    signing_region = SERVICE_ENDPOINT_REGIONS.get(service) or region
    key = endpoint_key(service, service_id)
    suffix = "amazonaws.com.cn" if signing_region.startswith("cn-") else "amazonaws.com"  # the China partition
    config = configured or EndpointConfig()
    setting = env.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")  # set, even empty, it wins over the profile's
    ignored = setting.strip().lower() == "true" if setting is not None else config.ignore
    found = None if ignored else (env.get("AWS_ENDPOINT_URL_" + key.upper()) or env.get("AWS_ENDPOINT_URL")
                                  or dict(config.services).get(key) or config.endpoint_url)
    endpoint = (override or found
                or f"https://{GLOBAL_HOSTS.get(service) or f'{signing_name or service}.{signing_region}.{suffix}'}")
    return endpoint, signing_region


def with_endpoint(request: Request, endpoint: str) -> Request:
    """`request` pointed at another scheme://host[:port]; path, query and headers stay as built.
    Raises InvalidParameterError when `endpoint` has no scheme or no host, or a path or query (which would be
    dropped)."""
    target = Request("GET", endpoint)
    if not target.scheme or not urlsplit(endpoint).hostname or target.target != "/":
        raise InvalidParameterError(f"--endpoint {endpoint!r}: expected http(s)://host[:port]"
                                    + (f", without the path and query {target.target!r}"
                                       if target.scheme and target.target != "/" else ""))
    return request.with_url(f"{target.scheme}://{target.authority}{request.target}")
