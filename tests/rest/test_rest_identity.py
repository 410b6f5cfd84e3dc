"""Identity and tokens: the grant, one token per service, 401, 601, 602."""

from __future__ import annotations

from restapp import CLIENT_ID, CLIENT_SECRET, Rest, make_rest

from leadsync.config import Settings
from leadsync.store.base import Store

GRANT = {"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}


def test_token_by_get_query_has_oauth_shape(rest: Rest) -> None:
    answer = rest.http.get("/identity/oauth/token", params=GRANT)
    assert answer.status_code == 200
    body = answer.json()
    assert list(body) == ["access_token", "token_type", "expires_in", "scope"]
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert body["access_token"] == rest.token
    assert answer.headers["cache-control"] == "no-store"


def test_post_form_body_gets_the_same_token_with_its_remaining_lifetime(rest: Rest) -> None:
    rest.clock.advance(seconds=100.4)
    answer = rest.http.post("/identity/oauth/token", data=GRANT)
    assert answer.status_code == 200
    assert answer.json()["access_token"] == rest.token
    assert answer.json()["expires_in"] == 3499


def test_new_token_after_expiry(rest: Rest) -> None:
    rest.clock.advance(seconds=3600)
    answer = rest.http.get("/identity/oauth/token", params=GRANT)
    assert answer.json()["access_token"] != rest.token
    assert answer.json()["expires_in"] == 3600


def test_bad_credentials_get_401_oauth_body(rest: Rest) -> None:
    bad_secret = rest.http.get("/identity/oauth/token", params={**GRANT, "client_secret": "x"})
    assert bad_secret.status_code == 401
    assert bad_secret.json() == {
        "error": "unauthorized",
        "error_description": "Bad client credentials",
    }
    unknown = rest.http.get("/identity/oauth/token", params={**GRANT, "client_id": "nope"})
    assert unknown.status_code == 401
    assert unknown.json()["error"] == "unauthorized"
    assert "No client with requested id" in unknown.json()["error_description"]
    no_grant = rest.http.get("/identity/oauth/token", params={"client_id": CLIENT_ID})
    assert no_grant.status_code == 400


def test_bearer_header_is_accepted(rest: Rest) -> None:
    rest.ok(rest.get("/rest/v1/leads/partitions.json"))


def test_missing_invalid_and_expired_tokens(rest: Rest) -> None:
    path = "/rest/v1/leads/partitions.json"
    assert rest.error(rest.http.get(path)) == "601"
    assert rest.error(rest.http.get(path, headers={"Authorization": "Bearer nope"})) == "601"
    assert rest.error(rest.http.get(path, headers={"Authorization": "Basic abc"})) == "601"
    rest.clock.advance(seconds=3600)
    assert rest.error(rest.get(path)) == "602"
    rest.authenticate()
    rest.ok(rest.get(path))


def test_query_token_refused_by_default_with_a_message_naming_the_header(rest: Rest) -> None:
    answer = rest.http.get("/rest/v1/leads/partitions.json", params={"access_token": rest.token})
    assert rest.error(answer) == "601"
    assert "Authorization" in answer.json()["errors"][0]["message"]


def test_query_token_accepted_when_set(store: Store) -> None:
    for rest in make_rest(store, Settings(rest_query_token=True)):
        answer = rest.http.get(
            "/rest/v1/leads/partitions.json", params={"access_token": rest.token}
        )
        rest.ok(answer)


def test_removed_service_token_is_invalid(rest: Rest) -> None:
    assert rest.store.services().remove_service(CLIENT_ID)
    assert rest.error(rest.get("/rest/v1/leads/partitions.json")) == "601"


def test_a_removed_service_is_refused_within_a_second(rest: Rest) -> None:
    rest.ok(rest.get("/rest/v1/leads/partitions.json"))
    assert rest.store.services().remove_service(CLIENT_ID)
    rest.clock.advance(seconds=1)
    assert rest.error(rest.get("/rest/v1/leads/partitions.json")) == "601"
