"""Email digests, the sending side: schedule, content, the mail itself, no paper twice, failures and
suppression, crash recovery, concurrent runs, the command and the background task."""

from __future__ import annotations

import datetime as dt
import re
import threading
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connections
from django.test import Client
from django.utils import timezone

from paperboard.digests import content, links, schedule, sending
from paperboard.jobs import scheduler
from paperboard.digests.models import Delivery, SentPaper, Subscription
from tests.conftest import make_paper
from tests.digests_support import NOW, on_feed, smtp_mail, subscriber  # noqa: F401 (fixture)
from tests.smtp import free_port, smtp_server  # noqa: F401  (the fixture)

DAY = dt.timedelta(days=1)


def sent_to(email: str) -> list:
    return [m for m in mail.outbox if m.to == [email]]


def ids_in(message) -> set[str]:
    return set(re.findall(r"/papers/(\d{4}\.\d{5})", message.body))


# ---------------------------------------------------------------- the schedule


@pytest.mark.parametrize("frequency, after, expected", [
    ("weekdays", "2026-11-26T06:59", "2026-11-26T07:00"),  # Thursday, before the send time
    ("weekdays", "2026-11-26T07:00", "2026-11-27T07:00"),  # strictly after
    ("weekdays", "2026-11-27T08:00", "2026-11-30T07:00"),  # Friday -> Monday
    ("weekdays", "2026-11-28T12:00", "2026-11-30T07:00"),  # Saturday -> Monday
    ("daily", "2026-11-27T08:00", "2026-11-28T07:00"),  # Friday -> Saturday
    ("weekly", "2026-11-26T08:00", "2026-11-30T07:00"),  # -> Monday
    ("weekly", "2026-11-30T07:00", "2026-12-07T07:00"),
])
def test_each_frequency_falls_due_on_its_days_at_the_send_hour(frequency, after, expected):
    after = dt.datetime.fromisoformat(after).replace(tzinfo=dt.UTC)
    assert schedule.next_slot(frequency, after) == dt.datetime.fromisoformat(expected).replace(tzinfo=dt.UTC)


def test_the_send_hour_and_time_zone_are_settings(settings):
    settings.PAPERBOARD_DIGEST_SEND_HOUR = 18
    settings.TIME_ZONE = "Europe/Paris"
    slot = schedule.next_slot("daily", NOW)
    assert slot.astimezone(dt.UTC) == dt.datetime(2026, 11, 26, 17, 0, tzinfo=dt.UTC)
    assert schedule.period_key("weekly", slot) == "2026-W48" and schedule.period_key("daily", slot) == "2026-11-26"


@pytest.mark.parametrize("frequency, expected", [("daily", 14), ("weekdays", 10), ("weekly", 2)])
def test_over_two_weeks_each_frequency_gets_one_digest_per_send_day(db, frequency, expected):
    subscription = subscriber("ada@example.org", frequency=frequency, due=schedule.next_slot(frequency, NOW - DAY))
    for hour in range(14 * 24):  # a run every hour, as a worker would every minute
        sending.send_due(now=NOW + dt.timedelta(hours=hour))
    keys = list(Delivery.objects.filter(subscription=subscription).values_list("period_key", flat=True))
    assert len(keys) == len(set(keys)) == expected
    if frequency == "weekly":
        assert keys == ["2026-W49", "2026-W50"]


# ---------------------------------------------------------------- the mail


def test_the_digest_is_html_with_a_text_alternative_and_one_click_unsubscribe_headers(db, smtp_mail, settings):
    settings.BASE_URL = "https://papers.example.org"
    long_abstract = "We show a thing works. " + "Then many details follow. " * 20
    papers = on_feed(2, abstract=long_abstract, authors=["Ada Lovelace", "Alan Turing", "Grace Hopper", "Emmy Noether"])
    subscriber("ada@example.org")
    assert sending.send_due(now=NOW).sent == 1
    (message,) = smtp_mail.wait_for(1)
    assert message["To"] == "ada@example.org" and smtp_mail.envelopes[0][1] == ["ada@example.org"]
    unsubscribe = re.fullmatch(r"<(https://papers\.example\.org/digest/unsubscribe/\S+)>, <mailto:noreply@localhost\?subject=unsubscribe>",
                               message["List-Unsubscribe"].strip())  # long: folded after the colon
    assert unsubscribe, message["List-Unsubscribe"]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert re.fullmatch(r"<digest\.\d+\.2026-11-26@papers\.example\.org>", message["Message-ID"])
    assert papers[0].title in message["Subject"]
    html = message.get_body(("html",)).get_content()
    text = message.get_body(("plain",)).get_content()
    for p in papers:
        for body in (html, text):
            assert p.title in body and f"https://papers.example.org/papers/{p.arxiv_id}" in body
            assert "Ada Lovelace, Alan Turing, Grace Hopper et al." in body
            assert "We show a thing works." in body and "Then many details" not in body  # one line
    assert f"{papers[0].upvotes} upvotes" in text and "&#9650; 2 upvotes" in html
    assert 'style="' in html and "<style" not in html and "<link" not in html  # inline CSS only
    assert "<img" not in html and "src=" not in html  # no remote images (no images at all)
    assert "Top papers of the day" in html and "Unsubscribe" in html

    # The header's URL unsubscribes with one POST, without a CSRF token.
    path = unsubscribe.group(1).removeprefix("https://papers.example.org")
    r = Client(enforce_csrf_checks=True).post(path, "List-Unsubscribe=One-Click",
                                               content_type="application/x-www-form-urlencoded")
    assert r.status_code == 200
    assert not Subscription.objects.get().active


def test_sections_follow_the_preferences(db):
    on_feed(4, titles=["Diffusion for proteins", "Graph nets", "Robot hands", "Speech"],
            categories=("cs.RO",), votes=[1, 9, 5, 3])
    make_paper("2611.09999", title="Diffusion everywhere", categories=("cs.LG",), published="2026-11-24")
    reader = subscriber("ada@example.org", sections=(), categories=("cs.RO",), topics=("diffusion",),
                        max_papers=10, min_upvotes=0)
    picky = subscriber("bob@example.org", sections=("top",), max_papers=2, min_upvotes=4)
    assert sending.send_due(now=NOW).sent == 2
    (to_reader,) = sent_to(reader.email)
    assert "New in your categories" in to_reader.body and "Your topics" in to_reader.body
    assert "Top papers" not in to_reader.body and "Trending" not in to_reader.body
    assert {"2611.09999", "2611.00001"} <= ids_in(to_reader)  # matched by the saved search
    (to_picky,) = sent_to(picky.email)
    assert ids_in(to_picky) == {"2611.00002", "2611.00003"}  # at most 2, at least 4 upvotes, by upvotes


def test_for_you_is_only_for_subscribers_with_an_account(db, alice, monkeypatch):
    on_feed(3)
    calls = []
    monkeypatch.setattr(content.Candidates, "for_you", lambda self, user: calls.append(user) or [])
    anonymous = subscriber("ada@example.org", sections=("for_you",))
    with_account = subscriber("alice@example.org", user=alice, sections=("for_you",))
    sending.send_due(now=NOW)
    assert calls == [alice]
    assert Delivery.objects.get(subscription=anonymous).status == "skipped"  # no section left for them
    assert Delivery.objects.get(subscription=with_account).status == "skipped"  # nothing suggested


# ---------------------------------------------------------------- never twice


def test_it_never_sends_the_same_paper_twice(db):
    first_day = on_feed(3, day="2026-11-25")
    subscriber("ada@example.org", frequency="daily", max_papers=2, sections=("top", "trending"))
    sending.send_due(now=NOW)
    on_feed(2, day="2026-11-26", start=10, votes=[5, 4])
    for day in (1, 2, 3):
        sending.send_due(now=NOW + day * DAY)
    digests = sent_to("ada@example.org")
    seen = [i for m in digests for i in ids_in(m)]
    assert len(seen) == len(set(seen)) == SentPaper.objects.count() == 5
    assert {p.arxiv_id for p in first_day} <= set(seen)
    statuses = list(Delivery.objects.order_by("created_at").values_list("status", flat=True))
    assert statuses == ["sent", "sent", "sent", "skipped"]  # the 4th day had nothing new: no empty mail
    assert len(digests) == 3


def test_digest_send_twice_sends_once(db):
    on_feed(2)
    subscriber("ada@example.org")
    subscriber("bob@example.org")
    out = StringIO()
    call_command("digest", "send", "--now", NOW.isoformat(), stdout=out)
    call_command("digest", "send", "--now", NOW.isoformat(), stdout=out)
    first, second = out.getvalue().splitlines()
    assert first.startswith("digests: 2 scheduled, 2 sent, 0 failed")
    assert second.startswith("digests: 0 scheduled, 0 sent, 0 failed")
    assert sorted(m.to[0] for m in mail.outbox) == ["ada@example.org", "bob@example.org"]
    assert Delivery.objects.filter(status="sent").count() == 2


def test_digest_send_limit_sends_at_most_that_many_and_the_rest_next_time(db):
    on_feed(1)
    for i in range(5):
        subscriber(f"r{i}@example.org")
    assert sending.send_due(now=NOW, limit=2).sent == 2
    assert sending.send_due(now=NOW).sent == 3
    assert len(mail.outbox) == 5


def test_a_limit_gives_the_rest_of_the_claimed_chunk_back_without_an_attempt(db):
    on_feed(1)
    for i in range(5):
        subscriber(f"r{i}@example.org")
    assert sending.send_due(now=NOW, limit=2).sent == 2
    rest = Delivery.objects.exclude(status="sent")
    assert list(rest.values_list("status", "attempts", "lease_until")) == [("pending", 0, None)] * 3


def test_a_non_ascii_subject_is_encoded_and_reads_back_the_same(db, smtp_mail):
    (paper,) = on_feed(1)
    paper.title = "Über die Schrödinger-Gleichung — ein sehr langer Überblick über neue Ergebnisse zu Quanten"
    paper.save(update_fields=["title"])
    subscriber("ada@example.org")
    assert sending.send_due(now=NOW).sent == 1
    (message,) = smtp_mail.wait_for(1)
    assert message["Subject"] == f"Paperboard digest: {paper.title[:69]}…"
    assert "Schrödinger" in message.get_body(("plain",)).get_content()


def test_several_processes_send_each_digest_once(transactional_db, smtp_mail):
    on_feed(2)
    for i in range(30):
        subscriber(f"r{i}@example.org")
    report = sending.send_due(now=NOW, chunk=4, processes=3)
    assert (report.scheduled, report.sent) == (30, 30)
    received = [m["To"] for m in smtp_mail.wait_for(30)]
    assert sorted(received) == sorted(f"r{i}@example.org" for i in range(30))
    assert Delivery.objects.filter(status="sent", attempts=1).count() == 30


def test_concurrent_runs_send_each_digest_once(transactional_db):
    on_feed(2)
    for i in range(12):
        subscriber(f"r{i}@example.org")
    errors = []

    def run():
        try:
            sending.send_due(now=NOW, chunk=3)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert sorted(m.to[0] for m in mail.outbox) == sorted(f"r{i}@example.org" for i in range(12))
    assert Delivery.objects.filter(status="sent").count() == 12


# ---------------------------------------------------------------- failures


def test_refused_recipients_fail_others_are_sent_and_suppression_follows(db, smtp_mail, settings, admin, client):
    settings.PAPERBOARD_DIGEST_MAX_FAILURES = 2
    smtp_mail.refuse["bad@example.org"] = "550 5.1.1 <bad@example.org>: no such user"
    on_feed(3, day="2026-11-25")
    for email in ("good@example.org", "bad@example.org", "fine@example.org"):
        subscriber(email, frequency="daily")
    report = sending.send_due(now=NOW)
    assert (report.sent, report.failed, report.suppressed) == (2, 1, 0)
    assert smtp_mail.received_by() == {"good@example.org": 1, "fine@example.org": 1}
    bad = Subscription.objects.get(email="bad@example.org")
    failed = Delivery.objects.get(subscription=bad)
    assert (failed.status, failed.smtp_code, bad.failures) == ("failed", 550, 1)
    assert "no such user" in failed.last_error and bad.suppressed_at is None
    assert not SentPaper.objects.filter(subscription=bad).exists()  # not sent: free for a later digest

    on_feed(2, day="2026-11-26", start=10)
    report = sending.send_due(now=NOW + DAY)
    assert (report.sent, report.failed, report.suppressed) == (2, 1, 1)
    bad.refresh_from_db()
    assert bad.suppressed_at is not None and bad.next_due_at is None and "550" in bad.suppression_reason
    assert sending.send_due(now=NOW + 2 * DAY).failed == 0  # suppressed: not even tried

    client.force_login(admin)
    page = client.get("/admin/digests/subscription/", {"suppressed_at__isempty": "0"}).content.decode()
    assert "bad@example.org" in page and "good@example.org" not in page


def test_a_success_resets_the_failure_count(db, smtp_mail, settings):
    settings.PAPERBOARD_DIGEST_MAX_FAILURES = 2
    smtp_mail.refuse["flaky@example.org"] = "550 5.2.1 mailbox disabled"
    on_feed(3, day="2026-11-25")
    subscriber("flaky@example.org", frequency="daily", max_papers=1)
    sending.send_due(now=NOW)
    del smtp_mail.refuse["flaky@example.org"]
    assert sending.send_due(now=NOW + DAY).sent == 1
    assert Subscription.objects.get().failures == 0


def test_transient_failures_are_retried_with_backoff_and_the_same_papers(db, smtp_mail):
    smtp_mail.refuse["busy@example.org"] = "451 4.7.1 greylisted, try again later"
    on_feed(3)
    subscriber("busy@example.org", max_papers=2)
    report = sending.send_due(now=NOW)
    assert (report.retrying, report.sent, report.failed) == (1, 0, 0)
    delivery = Delivery.objects.get()
    chosen = set(SentPaper.objects.values_list("paper_id", flat=True))
    assert (delivery.status, delivery.smtp_code, delivery.attempts) == ("pending", 451, 1)
    wait = dt.timedelta(seconds=sending.BACKOFF_SECONDS[0])
    assert NOW + wait <= delivery.retry_at < NOW + wait + dt.timedelta(seconds=10)
    assert sending.send_due(now=NOW + dt.timedelta(seconds=30)).retrying == 0  # not yet
    on_feed(2, start=20, votes=[50, 40])  # better papers meanwhile: the retry still sends the first choice
    del smtp_mail.refuse["busy@example.org"]
    assert sending.send_due(now=NOW + dt.timedelta(minutes=2)).sent == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("sent", 2)
    assert set(SentPaper.objects.values_list("paper_id", flat=True)) == chosen
    assert Subscription.objects.get().failures == 0  # transient failures never count toward suppression


def test_transient_failures_give_up_after_the_last_attempt(db, smtp_mail):
    smtp_mail.refuse["busy@example.org"] = "452 4.2.2 mailbox full"
    on_feed(2)
    subscriber("busy@example.org")
    when = NOW
    for _ in range(sending.MAX_ATTEMPTS):
        sending.send_due(now=when)
        when += dt.timedelta(hours=2)
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("failed", sending.MAX_ATTEMPTS)
    assert "gave up" in delivery.last_error and not SentPaper.objects.exists()
    assert Subscription.objects.get().failures == 0


def test_an_unreachable_mail_server_leaves_the_digests_for_the_next_run(db, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 2
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    on_feed(1)
    for i in range(6):
        subscriber(f"r{i}@example.org")
    report = sending.send_due(now=NOW)
    assert report.retrying == sending.MAX_CONNECTION_ERRORS and report.sent == 0  # then it stopped trying
    assert Delivery.objects.filter(status="pending").count() == 6


# ---------------------------------------------------------------- crash recovery (in process; see test_digests_crash)


def _stuck(subscription, *, handed_over: bool) -> Delivery:
    """A delivery a dead run left `sending`, its lease run out."""
    sending.schedule_due(sending.Clock(NOW), sending.Report())
    delivery = Delivery.objects.get(subscription=subscription)
    Delivery.objects.filter(pk=delivery.pk).update(
        status="sending", attempts=1, lease_until=NOW - dt.timedelta(seconds=1),
        handed_over_at=NOW if handed_over else None,
    )
    return delivery


def test_a_delivery_left_sending_before_the_hand_over_is_sent_again(db):
    on_feed(2)
    delivery = _stuck(subscriber("ada@example.org"), handed_over=False)
    report = sending.send_due(now=NOW)
    assert (report.recovered, report.sent) == (1, 1)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("sent", 2)


def test_a_delivery_left_sending_after_the_hand_over_is_never_sent_again(db):
    on_feed(2)
    delivery = _stuck(subscriber("ada@example.org"), handed_over=True)
    report = sending.send_due(now=NOW)
    assert (report.unknown, report.sent) == (1, 0) and mail.outbox == []
    delivery.refresh_from_db()
    assert delivery.status == "unknown" and "not resent" in delivery.last_error
    assert sending.send_due(now=NOW + dt.timedelta(hours=1)).sent == 0


def test_a_delivery_still_within_its_lease_is_left_alone(db):
    on_feed(2)
    delivery = _stuck(subscriber("ada@example.org"), handed_over=False)
    Delivery.objects.filter(pk=delivery.pk).update(lease_until=NOW + dt.timedelta(minutes=5))
    assert sending.send_due(now=NOW).sent == 0 and mail.outbox == []


class TakenOverTransport:
    """A transport during whose send another run takes the delivery over (ours outlived its lease)."""

    def __init__(self):
        self.sent = []

    def send(self, message, before_data):
        Delivery.objects.update(status="pending", lease_until=None)  # what recover() in another run does
        before_data()
        self.sent.append(message)

    def close(self):
        pass


def test_a_run_that_lost_its_lease_calls_the_send_off_before_data(db):
    on_feed(2)
    subscriber("ada@example.org")
    sending.schedule_due(sending.Clock(NOW), sending.Report())
    transport = TakenOverTransport()
    result = sending.deliver(Delivery.objects.get(), sending.Clock(NOW), content.Candidates(NOW), transport)
    assert result.outcome is None and transport.sent == []
    assert Delivery.objects.get().status == "pending"  # for the run that took it


# ---------------------------------------------------------------- subscriptions change meanwhile


def test_an_unsubscribe_after_the_digest_fell_due_stops_it(db):
    on_feed(2)
    subscription = subscriber("ada@example.org")
    sending.schedule_due(sending.Clock(NOW), sending.Report())
    Client().post(links.unsubscribe_path(subscription))
    report = sending.send_due(now=NOW)
    assert (report.skipped, report.sent) == (1, 0) and mail.outbox == []


# ---------------------------------------------------------------- the background task


def test_the_scheduler_queues_one_digest_run_per_slot(db):
    from django_tasks_db.models import DBTaskResult

    minute = dt.datetime(2025, 3, 10, 7, 0, tzinfo=dt.UTC)
    assert scheduler.tick({"digests": 60}, now=minute) == ["digests"]
    assert scheduler.tick({"digests": 60}, now=minute + dt.timedelta(seconds=59)) == []  # the same slot
    assert DBTaskResult.objects.filter(status="READY").count() == 1
    assert scheduler.tick({"digests": 60}, now=minute + dt.timedelta(seconds=60)) == ["digests"]  # the next one


def test_the_digest_task_sends_what_is_due(db, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    on_feed(1, day=timezone.localdate().isoformat())  # the task runs at the real time
    subscriber("ada@example.org", due=NOW - dt.timedelta(days=1))
    assert scheduler.tick({"digests": 60}) == ["digests"]  # runs at once with the immediate backend
    assert [m.to for m in mail.outbox] == [["ada@example.org"]]
