"""Wire conventions: envelope, request ids, sizes, methods, paths, gzip."""

from __future__ import annotations

import gzip
import re

from restapp import Rest

REQUEST_ID = re.compile(r"^[0-9a-f]+#[0-9a-f]{11}$")


def test_success_envelope_key_order_and_request_id(rest: Rest) -> None:
    body = rest.ok(rest.get("/rest/v1/leads/partitions.json"))
    assert list(body) == ["requestId", "result", "success"]
    assert REQUEST_ID.match(body["requestId"])
    assert body["result"] == [
        {"id": 1, "name": "Default", "description": "Initial system lead partition"}
    ]


def test_unknown_resource_is_610(rest: Rest) -> None:
    answer = rest.get("/rest/v1/nothing.json")
    assert rest.error(answer) == "610"


def test_other_marketo_apis_and_the_roots_are_610(rest: Rest) -> None:
    for method in ("GET", "POST"):
        answer = rest.request(method, "/rest/asset/v1/staticLists.json")
        assert rest.error(answer) == "610"
        assert answer.json()["errors"][0]["message"] == (
            "Requested resource not found: Marketo's Asset API"
            " (/rest/asset/v1/staticLists.json) is not emulated by leadsync"
        )
    for path in ("/rest", "/rest/", "/identity", "/bulk", "/rest/v2/leads.json"):
        answer = rest.get(path)
        assert rest.error(answer) == "610"
        assert answer.json()["errors"][0]["message"] == f"Requested resource not found: {path}"
    # Even without a token: the path is checked first (docs/rest.md).
    assert rest.error(rest.http.get("/rest/asset/v1/folders.json")) == "610"


def test_not_emulated_endpoint_is_610_naming_it(rest: Rest) -> None:
    answer = rest.post("/rest/v1/leads/push.json", json={"input": []})
    assert rest.error(answer) == "610"
    assert "Push Lead to Marketo" in answer.json()["errors"][0]["message"]
    bulk = rest.get("/bulk/v1/customobjects/car_c/export.json")
    assert rest.error(bulk) == "610"


def test_wrong_method_is_605(rest: Rest) -> None:
    answer = rest.request("PUT", "/rest/v1/leads/describe.json")
    assert rest.error(answer) == "605"
    assert answer.json()["errors"][0]["message"] == "Request method 'PUT' not supported"


def test_dot_segments_are_removed(rest: Rest) -> None:
    answer = rest.get("/rest/v1/../v1/leads/./partitions.json")
    rest.ok(answer)


def test_body_over_one_megabyte_is_413(rest: Rest) -> None:
    answer = rest.post(
        "/rest/v1/leads.json",
        content=b"{" + b" " * (1024 * 1024) + b"}",
        headers={"Content-Type": "application/json"},
    )
    assert answer.status_code == 413


def test_uri_over_8_kb_is_414(rest: Rest) -> None:
    answer = rest.get(
        "/rest/v1/leads.json", params={"filterType": "id", "filterValues": "1" * 9000}
    )
    assert answer.status_code == 414


def test_gzip_when_asked(rest: Rest) -> None:
    answer = rest.get("/rest/v1/leads/describe.json", headers={"Accept-Encoding": "gzip"})
    assert answer.headers["content-encoding"] == "gzip"
    assert answer.json()["success"] is True  # httpx decoded it
    raw = rest.get("/rest/v1/leads/describe.json", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in raw.headers
    assert len(gzip.compress(raw.content)) < len(raw.content)


def test_identity_is_not_under_the_envelope(rest: Rest) -> None:
    answer = rest.http.request("PUT", "/identity/oauth/token")
    assert answer.status_code == 405
    assert answer.json()["error"] == "method_not_allowed"
