"""The OpenAPI schema at /api/openapi.json matches what the API answers.

Schemathesis runs as `schemathesis run --checks all` would, against a live server: every operation, valid
and invalid requests (examples, coverage, fuzzing and stateful phases), sent with a real API token of a
confirmed user so writes (submit, upvote, comment) happen, and every check on every answer. Examples are
bounded and derandomized, so the run is the same each time and takes about a minute on two cores.
"""

import datetime as dt
import time
from pathlib import Path

import pytest
import schemathesis
from django.utils import timezone
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events

from paperboard.accounts.models import ApiToken, profile_of
from tests.conftest import make_paper, put_on_feed
from tests.httpstub import StubServer

EMPTY_ARXIV_ANSWER = (Path(__file__).parent / "fixtures" / "arxiv_api_empty.atom.xml").read_bytes()

MAX_EXAMPLES = 25  # per operation and phase


def seed():
    """A confirmed, month-old account's API token, and papers to act on: two on the feed, two not yet."""
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user("ada", "ada@example.org", "correct horse battery",
                                                date_joined=timezone.now() - dt.timedelta(days=30))
    profile = profile_of(user)
    profile.email_confirmed_at = timezone.now() - dt.timedelta(days=30)
    profile.save()
    recent = (timezone.now() - dt.timedelta(days=2)).date().isoformat()
    for i in range(4):
        paper = make_paper(f"2501.0000{i}", f"Paper {i} on transformers", published=recent)
        if i < 2:
            put_on_feed(paper, recent)
    return ApiToken.issue(user, "schemathesis")[1]


@pytest.fixture
def token(transactional_db):
    return seed()


def failures_of(engine_events) -> tuple[list[str], int]:
    """Every failed check and engine error of a run, as text, and how many test cases ran."""
    found, cases = [], 0
    for event in engine_events:
        if isinstance(event, (events.ScenarioFinished, events.FuzzScenarioFinished)):
            cases += len(event.recorder.cases)
            for case_id, checks in event.recorder.checks.items():
                for check in checks:
                    if check.status == Status.FAILURE:
                        interaction = event.recorder.interactions.get(case_id)
                        request = interaction.request if interaction else None
                        where = f"{request.method} {request.uri}" if request else event.recorder.label
                        found.append(f"{check.name} on {where}: {check.failure_info.failure.title}\n"
                                     f"{check.failure_info.failure.message}")
        elif isinstance(event, (events.NonFatalError, events.FatalError)):
            found.append(f"error: {getattr(event, 'label', '')} {getattr(event, 'info', event)}")
    return found, cases


@pytest.fixture
def arxiv(settings):
    """A local arXiv API that knows no paper: a submitted id new to the instance is a 404, offline."""
    with StubServer(lambda params: (200, "application/atom+xml", EMPTY_ARXIV_ANSWER), "/api/query") as stub:
        settings.PAPERBOARD_ARXIV_API_URL = stub.url
        settings.PAPERBOARD_ARXIV_DELAY = 0
        yield stub


def test_every_operation_answers_as_the_openapi_schema_says(live_server, token, arxiv, settings):
    settings.PAPERBOARD_SEARCH_FETCH_UNKNOWN = False
    settings.PAPERBOARD_SEMANTIC_LIVE_EMBED = False  # the embedding model is not loaded for every query
    config = SchemathesisConfig.from_dict({
        "seed": 20260101,
        "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True},
        "headers": {"Authorization": f"Bearer {token}"},
        "workers": 1,
        # A value the schema allows can still name nothing valid: 2025-02-30, a cursor this server did not
        # issue, a string that is no arXiv id (400), a paper too old to submit (422). Those are documented
        # answers; everything else the check expects of valid data stays as schemathesis has it.
        "checks": {"positive_data_acceptance": {"expected-statuses": [
            "2xx", "3xx", "400", "401", "403", "404", "409", "422", "429", "5xx"]}},
    })
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/openapi.json", config=config)
    started = time.monotonic()
    found, cases = failures_of(schemathesis.engine.from_schema(schema).execute())
    print(f"schemathesis {schemathesis.__version__ if hasattr(schemathesis, '__version__') else ''}: "
          f"{cases} cases in {time.monotonic() - started:.1f} s")
    assert cases > 0
    assert not found, f"{len(found)} failures:\n" + "\n\n".join(found[:30])


# ---- What the run above relies on, one answer at a time -------------------------------------------------


def openapi(client):
    return client.get("/api/openapi.json").json()


def test_every_error_status_of_every_operation_is_declared_with_the_error_shape(client, db):
    for path, operations in openapi(client)["paths"].items():
        for method, operation in operations.items():
            for status, answer in operation["responses"].items():
                if status.startswith(("4", "5")) and status != "414":
                    schema = answer["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Error"}, (method, path, status)
            if "429" in operation["responses"]:
                assert operation["responses"]["429"]["headers"]["Retry-After"]["required"] is True
            if operation.get("security"):
                assert {"401", "403", "429"} <= set(operation["responses"]), (method, path)
    assert openapi(client)["components"]["schemas"]["Error"]["required"] == ["error", "code"]


def test_the_schema_names_fields_as_the_hub_shaped_answers_do(client, db):
    schemas = openapi(client)["components"]["schemas"]
    assert "_id" in schemas["Author"]["properties"] and "id" not in schemas["Author"]["properties"]
    assert "_id" in schemas["User"]["properties"]
    assert schemas["CommentOut"]["properties"]["id"]["type"] == "string"


def test_an_api_url_no_operation_matches_is_a_json_404(client, db):
    for method, url in [("get", "/api/nothing-here"), ("post", "/api/papers/a%0Ab/comments")]:
        r = getattr(client, method)(url)
        assert r.status_code == 404 and r["Content-Type"] == "application/json"
        assert r.json()["code"] == "not_found"


def test_a_submission_over_the_daily_quota_says_when_to_retry(client, db, settings):
    settings.PAPERBOARD_SUBMIT_DAILY_QUOTA = 0
    token = seed()
    r = client.post("/api/papers/submit", {"id": "2501.00002"}, content_type="application/json",
                    HTTP_AUTHORIZATION=f"Bearer {token}")
    assert r.status_code == 429 and r.json()["code"] == "quota_exceeded"
    assert 1 <= int(r["Retry-After"]) <= 25 * 3600


def test_a_reply_names_its_parent_by_the_id_string_or_number(client, db):
    token = seed()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}", "content_type": "application/json"}
    first = client.post("/api/papers/2501.00000/comments", {"body": "first"}, **auth).json()
    for parent in (first["id"], int(first["id"])):
        reply = client.post("/api/papers/2501.00000/comments", {"body": "re", "parentId": parent}, **auth)
        assert reply.status_code == 201 and reply.json()["parentId"] == first["id"]
    for junk in ("abc", "0", 2**70):
        r = client.post("/api/papers/2501.00000/comments", {"body": "re", "parentId": junk}, **auth)
        assert r.status_code == 400 and r.json()["code"] == "invalid_parameter", junk
