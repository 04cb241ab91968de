"""The OpenAPI schema at /api/openapi.json matches what the API answers.

Schemathesis runs as `schemathesis run --checks all` would, against a live server: every operation, valid
and invalid requests (examples, coverage, fuzzing and stateful phases), sent with a real API token of a
confirmed user so writes (submit, upvote, comment) happen, and every check on every answer. Examples are
bounded and derandomized, so the run is the same each time and takes about a minute on two cores.
"""

import datetime as dt
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

import pytest
import schemathesis
from django.utils import timezone
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events

from tests.conftest import api_token, bearer, make_paper, make_user, put_on_feed
from tests.httpstub import StubServer

EMPTY_ARXIV_ANSWER = (Path(__file__).parent / "fixtures" / "arxiv_api_empty.atom.xml").read_bytes()

MAX_EXAMPLES = 20  # per operation and phase


def seed():
    """A confirmed, long-standing account's API token, and papers to act on: two on the feed, two not yet."""
    user = make_user("ada")
    recent = (timezone.now() - dt.timedelta(days=2)).date().isoformat()
    for i in range(4):
        paper = make_paper(f"2501.0000{i}", f"Paper {i} on transformers", published=recent)
        if i < 2:
            put_on_feed(paper, recent)
    return api_token(user, "schemathesis")


@pytest.fixture
def token(transactional_db):
    return seed()


@dataclass
class Run:
    failures: list[str] = field(default_factory=list)  # every failed check and engine error, as text
    cases: int = 0
    statuses: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))  # by operation


def run_of(engine_events) -> Run:
    """What a schemathesis run found, from its events."""
    run = Run()
    found = run.failures
    for event in engine_events:
        if isinstance(event, (events.ScenarioFinished, events.FuzzScenarioFinished)):
            run.cases += len(event.recorder.cases)
            for interaction in event.recorder.interactions.values():
                if interaction.response is not None:
                    run.statuses[event.recorder.label][interaction.response.status_code] += 1
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
    return run


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
    run = run_of(schemathesis.engine.from_schema(schema).execute())
    print(f"schemathesis {version('schemathesis')}: {run.cases} cases in {time.monotonic() - started:.1f} s")
    for label, statuses in sorted(run.statuses.items()):
        print(f"  {label}: {dict(sorted(statuses.items()))}")
    assert not run.failures, f"{len(run.failures)} failures:\n" + "\n\n".join(run.failures[:30])
    operations = {label for label in run.statuses if label.split()[0] in ("GET", "POST", "DELETE")}
    assert len(operations) == 10, sorted(run.statuses)  # every operation was called
    answered = {label for label in operations if any(200 <= s < 300 for s in run.statuses[label])}
    assert answered == operations, operations - answered  # and did its job at least once (writes included)


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
                    **bearer(token))
    assert r.status_code == 429 and r.json()["code"] == "quota_exceeded"
    assert 1 <= int(r["Retry-After"]) <= 25 * 3600


def test_a_reply_names_its_parent_by_the_id_string_or_number(client, db):
    token = seed()
    auth = {**bearer(token), "content_type": "application/json"}
    first = client.post("/api/papers/2501.00000/comments", {"body": "first"}, **auth).json()
    for parent in (first["id"], int(first["id"])):
        reply = client.post("/api/papers/2501.00000/comments", {"body": "re", "parentId": parent}, **auth)
        assert reply.status_code == 201 and reply.json()["parentId"] == first["id"]
    for junk in ("abc", "0", 2**70):
        r = client.post("/api/papers/2501.00000/comments", {"body": "re", "parentId": junk}, **auth)
        assert r.status_code == 400 and r.json()["code"] == "invalid_parameter", junk
