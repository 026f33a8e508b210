"""`sigv4 call` parameters as JSON (`--input`, `@file`, `Name=JSON`): numbers a service reads, files as saved."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli_run import run_cli

ENV = {"AWS_ACCESS_KEY_ID": "ASIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "test", "AWS_SESSION_TOKEN": "token",
       "HOME": "/nonexistent", "AWS_EC2_METADATA_DISABLED": "true"}
BIG = "1" + "0" * 400


@pytest.mark.parametrize("how", ["--input", "@file", "Name=JSON"])
@pytest.mark.parametrize("number, refusal", [("NaN", "NaN is not a JSON number"),
                                             ("-Infinity", "-Infinity is not a JSON number"),
                                             ("1e400", "1e400 is beyond the range of a double")])
def test_call_refuses_json_numbers_no_service_reads(tmp_path: Path, how: str, number: str, refusal: str) -> None:
    """`call` parameters as JSON holding NaN, Infinity or `1e400` (Python's json reads them: nan, inf) are bad
    input: one line naming the number, exit 2. Before, `--input` sent `"NaN"`/`"Infinity"` in the body and a
    Name=JSON parameter blamed the shorthand syntax."""
    metric = f'[{{"MetricName": "m", "Value": {number}}}]'
    document = f'{{"Namespace": "x", "MetricData": {metric}}}'
    (tmp_path / "in.json").write_text(document)
    given = {"--input": ["--input", document], "@file": ["--input", "@" + str(tmp_path / "in.json")],
             "Name=JSON": ["Namespace=x", f"MetricData={metric}"]}[how]
    code, out, err = run_cli(["call", "cloudwatch", "PutMetricData", *given, "--dry-run", "--region", "us-east-1"], ENV)
    assert (code, out) == (2, b"") and err.count("\n") == 1 and refusal in err, err


def test_call_input_with_an_integer_beyond_a_double_is_checked_against_the_maximum() -> None:
    """`--input '{"MaxResults": 1000...0}'` (400 digits) for a member with a maximum: one line naming the rule.
    Before, the check converted it with float() and the user got an OverflowError traceback."""
    code, out, err = run_cli(["call", "account", "ListRegions", "--input", f'{{"MaxResults": {BIG}}}', "--dry-run"],
                             ENV)
    assert (code, out) == (2, b"") and err.count("\n") == 1, err
    assert "MaxResults: value 10000000000000000000... is above the maximum 50" in err


def test_call_input_file_saved_with_a_byte_order_mark_reads(tmp_path: Path) -> None:
    """`--input @params.json` saved by an editor that writes a UTF-8 byte-order mark (Notepad): the JSON reads.
    Before: "not valid JSON (Unexpected UTF-8 BOM ...)", exit 2."""
    (tmp_path / "params.json").write_bytes(b'\xef\xbb\xbf{"MaxResults": 5}')
    code, out, err = run_cli(["call", "account", "ListRegions", "--input", f"@{tmp_path / 'params.json'}",
                              "--dry-run"], ENV)
    assert code == 0 and out.endswith(b'{"MaxResults":5}'), (out, err)
