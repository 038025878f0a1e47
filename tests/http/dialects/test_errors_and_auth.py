"""Every error the OpenAI dialect answers with, in its exact shape; keys and accounts."""

from __future__ import annotations

import httpx
import openai
import pytest

from mockfiles import MockFilesServer
from tests.support.helpers import upload

pytestmark = pytest.mark.mockfiles(rate_limits=False)

MISSING_KEY = (
    "You didn't provide an API key. You need to provide your API key in an Authorization header using "
    "Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if "
    "you're accessing the API from your browser and are prompted for a username and password. You can "
    "obtain an API key from https://platform.openai.com/account/api-keys."
)


def error_of(r: httpx.Response) -> dict[str, object]:
    body = r.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"message", "type", "param", "code"}, body
    return body["error"]


def test_unknown_id_is_404_no_such_file(http: httpx.Client) -> None:
    for method, path in [
        ("GET", "/v1/files/file-abc123"),
        ("DELETE", "/v1/files/file-abc123"),
        ("GET", "/v1/files/file-abc123/content"),
    ]:
        r = http.request(method, path)
        assert r.status_code == 404
        assert error_of(r) == {
            "message": "No such File object: file-abc123",
            "type": "invalid_request_error",
            "param": "id",
            "code": None,
        }


def test_sdk_raises_not_found_with_body(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as info:
        client.files.retrieve("file-abc123")
    assert info.value.status_code == 404
    assert info.value.param == "id" and info.value.code is None
    assert info.value.request_id and info.value.request_id.startswith("req_")


@pytest.mark.parametrize(
    ("data", "files", "param", "code", "message"),
    [
        (
            {},
            {"file": ("a.txt", b"x")},
            "purpose",
            "missing_required_parameter",
            "Missing required parameter: 'purpose'.",
        ),
        ({"purpose": "assistants"}, None, "file", "missing_required_parameter", "Missing required parameter: 'file'."),
        (
            {"purpose": "answers"},
            {"file": ("a.txt", b"x")},
            "purpose",
            "invalid_value",
            "Invalid value: 'answers'. Supported values are: 'assistants', 'batch', 'fine-tune', 'vision', "
            "'user_data', and 'evals'.",
        ),
    ],
)
def test_bad_form_fields_are_400_naming_the_param(http: httpx.Client, data, files, param, code, message) -> None:
    if files is None:  # a multipart body with only the purpose field
        r = http.post("/v1/files", files={"purpose": (None, "assistants")})
    else:
        r = http.post("/v1/files", data=data, files=files)
    assert r.status_code == 400
    assert error_of(r) == {"message": message, "type": "invalid_request_error", "param": param, "code": code}


def test_sdk_raises_bad_request_for_an_invalid_purpose(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.files.create(file=b"x", purpose="answers")  # type: ignore[arg-type]
    assert info.value.param == "purpose"


def test_non_multipart_upload_is_400(http: httpx.Client) -> None:
    r = http.post("/v1/files", json={"purpose": "assistants"})
    assert r.status_code == 400
    assert "multipart/form-data" in error_of(r)["message"]


def test_two_file_parts_are_400(http: httpx.Client) -> None:
    r = http.post(
        "/v1/files", data={"purpose": "assistants"}, files=[("file", ("a.txt", b"a")), ("file", ("b.txt", b"b"))]
    )
    assert r.status_code == 400 and error_of(r)["param"] == "file"


def test_file_sent_as_a_text_field_is_400(http: httpx.Client) -> None:
    r = http.post("/v1/files", files={"purpose": (None, "assistants"), "file": (None, "not a file")})
    assert r.status_code == 400 and error_of(r)["param"] == "file"


def test_empty_file_is_400(http: httpx.Client) -> None:
    r = upload(http, b"")
    assert r.status_code == 400
    assert error_of(r)["param"] == "file"
    assert http.get("/v1/files").json()["data"] == []


@pytest.mark.parametrize(
    ("params", "param", "code", "message"),
    [
        (
            {"limit": 0},
            "limit",
            "integer_below_min_value",
            "Invalid 'limit': integer below minimum value. Expected a value >= 1, but got 0 instead.",
        ),
        (
            {"limit": 10001},
            "limit",
            "integer_above_max_value",
            "Invalid 'limit': integer above maximum value. Expected a value <= 10000, but got 10001 instead.",
        ),
        ({"limit": "ten"}, "limit", "invalid_type", "Invalid 'limit': expected an integer, but got 'ten' instead."),
        (
            {"order": "sideways"},
            "order",
            "invalid_value",
            "Invalid value: 'sideways'. Supported values are: 'asc' and 'desc'.",
        ),
        ({"after": "file-unknown"}, "after", None, "Invalid 'after': no file with id 'file-unknown'."),
    ],
)
def test_bad_list_query_is_400(http: httpx.Client, params, param, code, message) -> None:
    r = http.get("/v1/files", params=params)
    assert r.status_code == 400
    assert error_of(r) == {"message": message, "type": "invalid_request_error", "param": param, "code": code}


def test_limit_bounds_are_inclusive(http: httpx.Client) -> None:
    assert http.get("/v1/files", params={"limit": 1}).status_code == 200
    assert http.get("/v1/files", params={"limit": 10000}).status_code == 200


@pytest.mark.parametrize(
    "authorization", [None, "", "Bearer", "Bearer:abc", "Basic dXNlcjpwYXNz", "Token abc", "sk-no-scheme"]
)
def test_missing_or_malformed_key_is_401(mockfiles: MockFilesServer, authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    for method, path in [
        ("GET", "/v1/files"),
        ("POST", "/v1/files"),
        ("GET", "/v1/files/file-x"),
        ("DELETE", "/v1/files/file-x"),
        ("GET", "/v1/files/file-x/content"),
    ]:
        r = httpx.request(method, mockfiles.url + path, headers=headers)
        assert r.status_code == 401, (method, path)
        assert error_of(r) == {"message": MISSING_KEY, "type": "invalid_request_error", "param": None, "code": None}


@pytest.mark.mockfiles(api_keys=["sk-allowed-0123456789abcdef"])
def test_configured_keys_reject_others_with_masked_message(mockfiles: MockFilesServer) -> None:
    good = mockfiles.client(max_retries=0)
    assert mockfiles.api_key == "sk-allowed-0123456789abcdef"
    assert list(good.files.list()) == []
    bad = mockfiles.client(api_key="sk-wrong-key-abcdefgh1234", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as info:
        bad.files.list()
    assert info.value.code == "invalid_api_key"
    assert info.value.message.endswith(
        f"Incorrect API key provided: sk-wrong{'*' * 13}1234. "
        "You can find your API key at https://platform.openai.com/account/api-keys."
    )
    assert "wrong-key-abcdefgh" not in info.value.message


@pytest.mark.mockfiles(scenario={"auth": {"keys": ["k1", "k2"]}})
def test_scenario_auth_keys(mockfiles: MockFilesServer) -> None:
    assert httpx.get(mockfiles.base_url + "/files", headers={"Authorization": "Bearer k2"}).status_code == 200
    assert httpx.get(mockfiles.base_url + "/files", headers={"Authorization": "Bearer k3"}).status_code == 401


def test_accounts_are_isolated(mockfiles: MockFilesServer) -> None:
    alice = mockfiles.client(api_key="key-alice", max_retries=0)
    bob = mockfiles.client(api_key="key-bob", max_retries=0)
    mine = alice.files.create(file=b"alice's", purpose="assistants")
    bob.files.create(file=b"bob's", purpose="assistants")
    assert [f.id for f in alice.files.list()] == [mine.id]
    for attempt in (
        lambda: bob.files.retrieve(mine.id),
        lambda: bob.files.content(mine.id),
        lambda: bob.files.delete(mine.id),
    ):
        with pytest.raises(openai.NotFoundError) as info:
            attempt()
        assert info.value.message.endswith(f"No such File object: {mine.id}")
    assert alice.files.retrieve(mine.id).id == mine.id  # bob's delete did nothing
    r = httpx.get(mockfiles.base_url + "/files", params={"after": mine.id}, headers={"Authorization": "Bearer key-bob"})
    assert r.status_code == 400  # another account's id is no cursor either


def test_unknown_route_is_404_invalid_url(http: httpx.Client) -> None:
    r = http.get("/v1/nothing/here")
    assert r.status_code == 404
    assert error_of(r) == {
        "message": "Invalid URL (GET /v1/nothing/here)",
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    }
    assert http.get("/elsewhere").status_code == 404


def test_wrong_method_is_405_in_the_envelope(http: httpx.Client) -> None:
    r = http.put("/v1/files")
    assert r.status_code == 405
    assert error_of(r)["message"] == "Invalid method for URL (PUT /v1/files)"
    assert "GET" in r.headers["allow"] and "POST" in r.headers["allow"]
    assert http.post("/v1/files/file-x").status_code == 405


def test_routes_take_whole_non_empty_segments(http: httpx.Client) -> None:
    f = upload(http).json()
    assert http.get(f"/v1/files/{f['id']}/content").status_code == 200
    for path in [
        "/v1/files//content",  # an empty id is no id
        f"/v1/files/{f['id']}/content/",
        f"/v1/files/{f['id']}/contents",
        f"/v1/files/{f['id']}/x/content",
        "/v1/files/",
        "/v1//files",
        "/v1",
        "/",
        "/_mockfiles",
    ]:
        r = http.get(path)
        assert r.status_code == 404, path
        assert error_of(r)["message"] == f"Invalid URL (GET {path})"


def test_405_lists_exactly_the_methods_of_the_path(http: httpx.Client) -> None:
    f = upload(http).json()
    cases = {
        "/v1/files": ("PUT", {"GET", "POST", "HEAD"}),
        f"/v1/files/{f['id']}": ("POST", {"GET", "DELETE", "HEAD"}),
        f"/v1/files/{f['id']}/content": ("DELETE", {"GET", "HEAD"}),
    }
    for path, (method, allowed) in cases.items():
        r = http.request(method, path)
        assert r.status_code == 405, path
        assert {m.strip() for m in r.headers["allow"].split(",")} == allowed
        assert r.headers["x-request-id"].startswith("req_")


def test_head_answers_like_get_without_a_body(http: httpx.Client) -> None:
    f = upload(http).json()
    get = http.get(f"/v1/files/{f['id']}")
    head = http.head(f"/v1/files/{f['id']}")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == get.headers["content-length"]
    assert head.headers["content-type"] == "application/json"
