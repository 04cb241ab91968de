"""What goes in a digest: each section's candidates, then the subscriber's picks.

`Candidates` is made once per run and shared by every subscriber in it: the lists that do not depend on
the subscriber (top of the feed, trending, one arXiv category, a saved search) are computed once and kept
in a bounded cache. A subscriber's set of categories is merged from the per-category lists (so a run costs
one query per category and frequency, not one per combination). `offers` gives a subscriber's section
lists, `already_sent` the papers among them each subscriber of a whole chunk has had before (one query
for the chunk), and `pick` takes, round-robin over the sections, papers not sent before and with at least
the subscriber's minimum of upvotes, up to their maximum. Each paper appears once. `choose` does all three
for one subscriber (the preview).
"""

from __future__ import annotations

import datetime as dt
import heapq
import logging
import re
from collections import OrderedDict, defaultdict
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils import timezone

from paperboard.digests import preferences, schedule
from paperboard.digests.models import SentPaper, Subscription
from paperboard.papers import queries
from paperboard.papers.cards import Card
from paperboard.papers.models import PaperCategory
from paperboard.search import hybrid, query, service

log = logging.getLogger(__name__)

POOL = 200  # candidates kept per shared list: far more than any digest takes after leaving out sent papers
FOR_YOU_POOL = 30
TOPIC_LOOKBACK_DAYS = 14  # a saved search looks at papers first published this recently on arXiv
CACHE_SIZE = 256  # shared lists kept per run (one per category and frequency, one per saved search, ...)
SUMMARY_CHARS = 200


@dataclass
class Section:
    key: str
    title: str
    papers: list[Card] = field(default_factory=list)


@dataclass
class Digest:
    sections: list[Section]

    @property
    def papers(self) -> list[Card]:
        return [p for s in self.sections for p in s.papers]

    def __len__(self) -> int:
        return sum(len(s.papers) for s in self.sections)


def one_line(text: str, limit: int = SUMMARY_CHARS) -> str:
    """The first sentence of an abstract, on one line, at most `limit` characters."""
    flat = " ".join((text or "").split())
    match = re.match(r"(.+?[.!?])(\s|$)", flat)
    sentence = match.group(1) if match else flat
    if len(sentence) > limit:
        sentence = sentence[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"
    return sentence


def section_title(key: str, frequency: str) -> str:
    if key == "top" and frequency == "weekly":
        return "Top papers of the week"
    return preferences.SECTIONS[key]


class Candidates:
    """The papers each section could offer at `now`, shared by all subscribers of one run."""

    def __init__(self, now: dt.datetime | None = None):
        self.now = now or timezone.now()
        self.today = timezone.localdate(self.now)
        self._cache: OrderedDict[tuple, list[Card]] = OrderedDict()

    def _cached(self, key: tuple, make) -> list[Card]:
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        try:
            papers = make()
        except Exception:
            log.warning("digest section %s failed; left out", key, exc_info=True)
            papers = []
        for p in papers:
            p.digest_summary = one_line(p.abstract)
        self._cache[key] = papers
        if len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        return papers

    def _feed_since(self, frequency: str):
        start = schedule.window_start(frequency, self.now)
        return queries.visible_submissions().filter(day__gte=start, day__lte=self.today)

    @staticmethod
    def _papers(submissions) -> list[Card]:
        papers = queries.load_cards(submissions.values_list("paper_id", flat=True))
        for p in papers:
            p.digest_rank = (-p.upvotes, -p.feed_submission.submitted_at.timestamp(), p.arxiv_id)  # the order
        return papers

    def top(self, frequency: str) -> list[Card]:
        order = ("-paper__upvotes", "-submitted_at", "paper__arxiv_id")
        return self._cached(
            ("top", frequency), lambda: self._papers(self._feed_since(frequency).order_by(*order)[:POOL])
        )

    def trending(self) -> list[Card]:
        return self._cached(
            ("trending",), lambda: [s.paper for s in queries.feed(None, sort="trending", limit=POOL, now=self.now)]
        )

    def categories(self, codes: tuple[str, ...], frequency: str) -> list[Card]:
        """The feed's papers in any of `codes`, best first: the per-category lists merged."""
        lists = [self.category(code, frequency) for code in codes]
        if len(lists) == 1:
            return lists[0]
        merged, seen = [], set()
        for p in heapq.merge(*lists, key=lambda p: p.digest_rank):
            if p.pk not in seen and len(merged) < POOL:
                seen.add(p.pk)
                merged.append(p)
        return merged

    def category(self, code: str, frequency: str) -> list[Card]:
        """One category (`cs.LG`) or a whole archive (`math`), shared by every subscriber who chose it."""

        def make():
            match = Q(code=code) if "." in code else Q(code__startswith=f"{code}.") | Q(code=code)
            in_code = PaperCategory.objects.filter(match).values("paper_id")
            subs = self._feed_since(frequency).filter(paper_id__in=in_code)
            return self._papers(subs.order_by("-paper__upvotes", "-submitted_at", "paper__arxiv_id")[:POOL])

        return self._cached(("category", code, frequency), make)

    def topic(self, text: str) -> list[Card]:
        def make():
            since = self.today - dt.timedelta(days=TOPIC_LOOKBACK_DAYS)
            # Sorted by upvotes, hybrid answers with the papers whose words match (semantic neighbours have
            # no cut-off, so they never make a saved search "match").
            q = query.parse(text).with_filters(after=since)
            return service.load(hybrid.search(q, POOL, sort="upvotes"))

        return self._cached(("topic", text), make)

    def for_you(self, user) -> list[Card]:
        """Recent papers suggested for `user` (not shared: made per subscriber, never cached)."""
        try:
            from paperboard.search import foryou  # lazy: needs the semantic search, which may be missing

            feed = foryou.recommend(user, limit=FOR_YOU_POOL, today=self.today)
        except Exception:
            log.warning("For you for user %s failed; left out of the digest", user.pk, exc_info=True)
            return []
        papers = [item.paper for item in feed.items if item.recent]
        for p in papers:
            p.digest_summary = one_line(p.abstract)
        return papers

    def section(self, key: str, subscription: Subscription, prefs: preferences.Preferences) -> list[Card]:
        frequency = subscription.frequency
        if key == "top":
            return self.top(frequency)
        if key == "trending":
            return self.trending()
        if key == "for_you":
            return self.for_you(subscription.user) if subscription.user_id else []
        if key == "categories":
            return self.categories(prefs.categories, frequency)
        # topics: each saved search in turn, best matches first
        lists = [self.topic(t) for t in prefs.topics]
        return _round_robin(lists)


def _round_robin(lists: list[list[Card]]) -> list[Card]:
    out, seen = [], set()
    for i in range(max((len(lst) for lst in lists), default=0)):
        for lst in lists:
            if i < len(lst) and lst[i].pk not in seen:
                seen.add(lst[i].pk)
                out.append(lst[i])
    return out


def offers(subscription: Subscription, candidates: Candidates, prefs: preferences.Preferences) -> dict[str, list[Card]]:
    """Each of the subscriber's sections, in digest order: its candidates with enough upvotes."""
    keys = prefs.active_sections(has_account=subscription.user_id is not None)
    return {
        key: [p for p in candidates.section(key, subscription, prefs) if p.upvotes >= prefs.min_upvotes]
        for key in keys
    }


def already_sent(offered: dict[int, set[int]]) -> dict[int, set[int]]:
    """{subscription id: papers offered to it} -> {subscription id: those it was sent before}, in one query."""
    papers = set().union(*offered.values()) if offered else set()
    sent: dict[int, set[int]] = defaultdict(set)
    if papers:
        rows = SentPaper.objects.filter(subscription_id__in=list(offered), paper_id__in=papers)
        for subscription_id, paper_id in rows.values_list("subscription_id", "paper_id"):
            sent[subscription_id].add(paper_id)
    return sent


def pick(lists: dict[str, list[Card]], sent: set[int], max_papers: int) -> list[tuple[str, Card]]:
    """Round-robin over the sections, papers not in `sent`, each once, up to `max_papers`, in digest order."""
    keys = list(lists)
    picked: dict[int, str] = {}
    papers: dict[int, Card] = {}
    cursors = {key: 0 for key in keys}
    while len(picked) < max_papers and any(cursors[k] < len(lists[k]) for k in keys):
        for key in keys:
            lst = lists[key]
            while cursors[key] < len(lst):
                p = lst[cursors[key]]
                cursors[key] += 1
                if p.pk not in sent and p.pk not in picked:
                    picked[p.pk], papers[p.pk] = key, p
                    break
            if len(picked) >= max_papers:
                break
    order = {key: i for i, key in enumerate(keys)}
    ranked = sorted(picked, key=lambda pid: order[picked[pid]])  # stable: pick order within a section
    return [(picked[pid], papers[pid]) for pid in ranked]


def choose(subscription: Subscription, candidates: Candidates) -> list[tuple[str, Card]]:
    """(section, paper) picks for `subscription` at the candidates' time, in digest order, none sent before."""
    prefs = preferences.of(subscription)
    lists = offers(subscription, candidates, prefs)
    offered = {p.pk for papers in lists.values() for p in papers}
    sent = already_sent({subscription.pk: offered}).get(subscription.pk, set()) if subscription.pk else set()
    return pick(lists, sent, prefs.max_papers)


def digest(picks: list[tuple[str, Card]], frequency: str) -> Digest:
    sections: dict[str, Section] = {}
    for key, paper in picks:
        if key not in sections:
            sections[key] = Section(key, section_title(key, frequency))
        sections[key].papers.append(paper)
    return Digest(list(sections.values()))


def load(rows: list[tuple[int, str]], frequency: str) -> Digest:
    """The digest recorded as (paper id, section) rows, in order (a retry sends what the first try chose)."""
    by_id = {c.pk: c for c in queries.load_cards(pid for pid, _ in rows)}
    for p in by_id.values():
        p.digest_summary = one_line(p.abstract)
    return digest([(section, by_id[pid]) for pid, section in rows if pid in by_id], frequency)
