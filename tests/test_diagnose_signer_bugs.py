"""Issue 21 class 5: known signer bugs and transit changes the mistake search proves with the secret, by
reproducing the signature sent. Each hand-rolled signer is named after the report it models: no installable
client has these bugs (the installed ones are exercised in tests/test_diagnose_real.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from sigv4 import Request
from tests.test_diagnose_corpus import BUCKET, CREDS, _header_line, _set, hand_rolled, ours, ours_presigned
from wire.debugger.diagnose import diagnose_answer
from wire.debugger.diagnosis_text import render_text

MOTO_403 = (403, [], b"<ErrorResponse><Errors><Error><Code>SignatureDoesNotMatch</Code><Message>The request "
                     b"signature we calculated does not match the signature you provided.</Message></Error></Errors>"
                     b"</ErrorResponse>")
LAMBDA = "https://lambda.us-east-1.amazonaws.com"


def _proved(sent: Request, kind: str, words: str) -> None:
    diagnosis = diagnose_answer(sent, MOTO_403, secret=CREDS)
    first = diagnosis.causes[0]
    assert (first.kind, first.evidence) == (kind, "proved"), render_text(diagnosis)
    assert first.message.startswith("reproduces the signature you sent") and words in first.message, first.message


def _path(value: str) -> Callable[[list[str]], None]:
    return _set(1, value)


@pytest.mark.parametrize(("name", "url", "service", "signed_uri", "kind", "words"), [
    # aws-sdk-go#3370-style: a Lambda alias qualifier `:prod` signed without URI-encoding.
    ("lambda-qualifier-colon", LAMBDA + "/2015-03-31/functions/my-fn%3Aprod/invocations", "lambda",
     "/2015-03-31/functions/my-fn:prod/invocations", "path-encoding", "the path not URI-encoded at all"),
    # Bedrock model ids hold `:` (`anthropic.claude-v2:1`), signed raw by hand-rolled signers.
    ("bedrock-model-id", "https://bedrock-runtime.us-east-1.amazonaws.com/model/anthropic.claude-v2%3A1/invoke",
     "bedrock", "/model/anthropic.claude-v2:1/invoke", "path-encoding", "the path not URI-encoded at all"),
    # A Hive-style S3 key `dt=2024-01-02`, sent as `%3D`, signed with a raw `=`.
    ("hive-style-s3-key", BUCKET + "/tables/dt%3D2024-01-02/part-0.parquet", "s3",
     "/tables/dt=2024-01-02/part-0.parquet", "path-encoding", "the path not URI-encoded at all"),
])
def test_a_path_signed_without_uri_encoding(name: str, url: str, service: str, signed_uri: str, kind: str,
                                            words: str) -> None:
    result = ours(Request("GET", url), service=service, **({"s3": True} if service == "s3" else {}))
    _proved(hand_rolled(result, _path(signed_uri)), kind, words)


def test_blank_query_values_dropped_by_parse_qs() -> None:
    """A signer that reads the query with `urllib.parse.parse_qsl` (blank values dropped)."""
    result = ours(Request("GET", BUCKET + "/?list-type=2&prefix=&delimiter=%2F"), service="s3", s3=True)
    _proved(hand_rolled(result, _set(2, "delimiter=%2F&list-type=2")), "query-empty-value", "parse_qs")


def test_repeated_keys_sorted_by_name_only() -> None:
    result = ours(Request("GET", "https://example.execute-api.us-east-1.amazonaws.com/prod/items?tag=b&a=1&tag=a"),
                  service="execute-api")
    _proved(hand_rolled(result, _set(2, "a=1&tag=b&tag=a")), "query-order", "sorted by name only")


def test_a_parameter_appended_after_signing() -> None:
    """A cache buster added to the URL after it was signed."""
    signed = ours(Request("GET", "https://example.execute-api.us-east-1.amazonaws.com/prod/items?page=2"),
                  service="execute-api").request
    sent = signed.with_url(signed.url + "&_=1704164645")
    _proved(sent, "query-encoding", "the query without `_`")


def test_a_leading_double_slash_stripped_by_requests() -> None:
    """requests 2.32 sends `//bucket-key` as `/bucket-key`; the signer signed what the caller gave."""
    signed = ours(Request("GET", BUCKET + "//logs/a.txt"), service="s3", s3=True).request
    sent = signed.with_url(BUCKET + "/logs/a.txt")
    _proved(sent, "path-normalization", "`//`")


def test_an_x_amz_date_rewritten_in_transit_is_found_in_the_servers_window() -> None:
    signed = ours(Request("GET", BUCKET + "/k"), service="s3", s3=True).request
    _proved(signed.with_header("X-Amz-Date", "20240102T031101Z"), "header-changed", "X-Amz-Date 20240102T030405Z")


@pytest.mark.parametrize(("header", "signed_value", "sent_value"), [
    ("Content-Type", "application/json; charset=UTF-8", "application/json; charset=utf-8"),
    ("Accept-Encoding", "gzip, deflate, br", "gzip"),
])
def test_a_header_rewritten_in_transit(header: str, signed_value: str, sent_value: str) -> None:
    signed = ours(Request("POST", "https://dynamodb.us-east-1.amazonaws.com/", [(header, signed_value)], b"{}"),
                  service="dynamodb").request
    _proved(signed.with_header(header, sent_value), "header-changed", f"`{header.lower()}:{signed_value}`")


def test_a_presigned_host_port_added_by_a_proxy() -> None:
    result = ours_presigned(Request("GET", BUCKET + "/k"), service="s3", s3=True)
    sent = hand_rolled(result, _header_line("host", "examplebucket.s3.amazonaws.com:443"))
    _proved(sent, "host-port", "host:examplebucket.s3.amazonaws.com:443")


def test_the_search_on_a_huge_request_is_bounded() -> None:
    """A 2,000-parameter query that verifies with no known mistake: the search renders at most SEARCH_BUDGET
    characters of canonical requests (before: every pair of variants, minutes of CPU). The budget is a guard."""
    import time
    query = "&".join(f"p{i}=v%2F{i}+x" for i in range(2000))
    sent = ours(Request("GET", "https://example.execute-api.us-east-1.amazonaws.com/prod//a/?" + query,
                        [("X-Meta", "a  b")]), service="execute-api").request
    start = time.process_time()
    diagnosis = diagnose_answer(sent, MOTO_403, secret="anotherSecretTheClientDidNotUseEXAMPLEKEY")
    assert time.process_time() - start < 20
    assert (diagnosis.causes[0].kind, diagnosis.causes[0].evidence) == ("secret", "likely")
