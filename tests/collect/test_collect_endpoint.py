"""`cfgmon collect` pointed at something that is not an AWS endpoint, as a user's shell runs it.

A malformed URL is bad input (one line, exit 2). A server that answers HTTP but not
as AWS is exit 2 when even STS GetCallerIdentity cannot be read (there is no account
to record anything for), and a recorded collection failure (exit 1) when STS answers
and the inventory services do not. Either way, a database that did not exist before
is not left behind empty, and one that did keeps what it held.
"""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler

import pytest
from clirun import run_cli_process
from dbrows import query_rows, table_counts
from webserver import serving

from cfgmon.simulation import Seeder

EXPECTED_FORM = "expected a form like http://127.0.0.1:5000"


def assert_one_line(result, start: str) -> None:
    assert result.exit_code == 2, (result.exit_code, result.stderr)
    assert result.stderr.startswith(f"cfgmon: error: {start}"), result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def assert_no_database(db) -> None:
    assert not db.exists() and not db.with_name(f"{db.name}.wal").exists()


SERVICE_SOURCE = "from an AWS_ENDPOINT_URL_<SERVICE> variable or the AWS config file"
# (where the URL is given, the URL, what the error says about it); {server} is the
# address of a real web server, without its http://.
BAD_URLS = {
    "no scheme": ("--endpoint-url", "{server}",
                  "--endpoint-url '{server}' is not an endpoint URL (no http:// or https://)"),
    "boto3's variable, no scheme": (
        "AWS_ENDPOINT_URL", "localhost:35813",
        "AWS_ENDPOINT_URL 'localhost:35813' is not an endpoint URL (no http:// or https://)"),
    "one service's variable": (
        "AWS_ENDPOINT_URL_STS", "localhost:35813",
        f"the sts endpoint 'localhost:35813' ({SERVICE_SOURCE}) is not an endpoint URL"),
    "another scheme": ("--endpoint-url", "ftp://127.0.0.1:5000",
                       "--endpoint-url 'ftp://127.0.0.1:5000' is not an endpoint URL "
                       "(it must start with http:// or https://)"),
    "no host": ("--endpoint-url", "http://", "--endpoint-url 'http://' is not an endpoint URL "
                                             "(no host)"),
    "a port that is no number": ("--endpoint-url", "http://127.0.0.1:port",
                                 "--endpoint-url 'http://127.0.0.1:port' is not an endpoint URL "
                                 "(the port is not a number)"),
}


@pytest.mark.parametrize("case", BAD_URLS)
def test_a_malformed_endpoint_url_is_bad_input(aws, web_server, tmp_path, case):
    where, url, expected = (text.replace("{server}", web_server.removeprefix("http://"))
                            for text in BAD_URLS[case])
    db = tmp_path / "new.duckdb"
    if where.startswith("--"):
        result = run_cli_process("collect", "--db", str(db), where, url)
    else:
        result = run_cli_process("collect", "--db", str(db), env={where: url})
    assert_one_line(result, f"{expected}; {EXPECTED_FORM}")
    assert_no_database(db)


def test_a_web_server_that_is_not_aws_is_one_line_and_no_database(aws, web_server, tmp_path):
    db = tmp_path / "new.duckdb"
    result = run_cli_process("collect", "--db", str(db), "--endpoint-url", web_server)
    assert_one_line(
        result,
        "cannot identify the AWS account: GetCallerIdentity returned HTTP 501 with an HTML "
        "page ('Error response') instead of XML; "
        f"is {web_server} an AWS-compatible endpoint?",
    )
    assert_no_database(db)


class WebApp(BaseHTTPRequestHandler):
    """A web application that answers every POST with 200 and well-formed XML that is not
    an answer of AWS: a web page, another document, an empty stub."""

    bodies = {"/page": b"<html><head><title>Welcome</title></head><body>hello</body></html>",
              "/other": b"<Response><Status>ok</Status></Response>",
              "/stub": b"<GetCallerIdentityResponse><GetCallerIdentityResult/>"
                       b"</GetCallerIdentityResponse>"}

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = self.bodies[self.path]
        self.send_response(200)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args) -> None:
        pass


@pytest.mark.parametrize("path, problem", [
    ("/page", "GetCallerIdentity returned HTTP 200 with an HTML page ('Welcome') instead of XML"),
    ("/other", "GetCallerIdentity returned HTTP 200 with XML that has no "
               "<GetCallerIdentityResult>"),
    ("/stub", "GetCallerIdentity answered without an account id"),
])
def test_a_success_that_is_not_an_aws_answer_is_one_line(aws, tmp_path, path, problem):
    db = tmp_path / "new.duckdb"
    with serving(WebApp) as url:
        result = run_cli_process("collect", "--db", str(db), "--endpoint-url", url + path)
    assert_one_line(result, f"cannot identify the AWS account: {problem}; "
                            f"is {url}{path} an AWS-compatible endpoint?")
    assert_no_database(db)


def test_a_wrong_path_on_the_moto_server_leaves_the_existing_database(aws, tmp_path):
    Seeder(aws).chain("eu-west-1")
    db = tmp_path / "inventory.duckdb"
    first = run_cli_process("collect", "--db", str(db), "--endpoint-url", aws.endpoint,
                            "--region", "eu-west-1")
    assert first.exit_code == 0, first.stderr
    before = table_counts(db), query_rows(db, "SELECT * FROM cfgmon_collection ORDER BY service")

    result = run_cli_process("collect", "--db", str(db), "--endpoint-url", f"{aws.endpoint}/xyz",
                             "--region", "eu-west-1")
    assert_one_line(
        result,
        "cannot identify the AWS account: GetCallerIdentity returned HTTP 404 with an HTML "
        "page ('404 Not Found') instead of XML; "
        f"is {aws.endpoint}/xyz an AWS-compatible endpoint?",
    )
    assert (table_counts(db),
            query_rows(db, "SELECT * FROM cfgmon_collection ORDER BY service")) == before


def test_services_that_answer_nonsense_are_recorded_failures(aws, web_server, tmp_path):
    db = tmp_path / "new.duckdb"
    # STS answers (moto), every inventory service is the web server: boto3's own variables.
    result = run_cli_process("collect", "--db", str(db), "--region", "eu-west-1",
                             env={"AWS_ENDPOINT_URL_STS": aws.endpoint,
                                  "AWS_ENDPOINT_URL": web_server})
    assert result.exit_code == 1, result.stderr
    assert "Traceback" not in result.stderr
    failures = query_rows(db, "SELECT service, status, error_code, error_operation, error_message "
                              "FROM cfgmon_collection ORDER BY service")
    assert [(f["service"], f["status"], f["error_code"]) for f in failures] == [
        (service, "error", "MalformedResponseError")
        for service in ("cloudtrail", "cloudwatch", "logs", "sns")
    ]
    formats = {"cloudtrail": "JSON", "cloudwatch": "JSON", "logs": "JSON", "sns": "XML"}
    for failure in failures:
        assert failure["error_message"] == (
            f"{failure['error_operation']} returned HTTP 501 with an HTML page "
            f"('Error response') instead of {formats[failure['service']]}"
        )
    assert ("  error: eu-west-1 cloudtrail (DescribeTrails): MalformedResponseError: "
            "DescribeTrails returned HTTP 501 with an HTML page ('Error response') "
            "instead of JSON") in result.stderr.splitlines()
