"""Harvest recent papers from the arXiv API (`paperboard ingest arxiv`), page by page, into the database.

Politeness (https://info.arxiv.org/help/api/tou.html): one request at a time, at least
`PAPERBOARD_ARXIV_DELAY` seconds apart (never less than 3 s against arxiv.org), a descriptive
User-Agent, exponential backoff on 5xx answers, timeouts and dropped connections. A 4xx answer is
the query's fault and stops the harvest at once with a HarvestError.

Each page is parsed with `formats.atom.parse_feed` and upserted with `store.import_records`. The
harvest stops when a page brings nothing new or updated (results come newest first, so the rest is
already here), when a page is empty, when `totalResults` is reached, or at `max_results`.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import http.client
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.conf import settings

from paperboard.ingest import clean, store
from paperboard.ingest.formats import atom, hf_daily
from paperboard.ingest.records import Rejected

USER_AGENT = "Paperboard/0.1"
MAX_PAGE_SIZE = 2000  # the API's cap on max_results per request
MIN_ARXIV_DELAY = 3.0  # arXiv's terms of use: no more than one request every three seconds
MAX_RETRY_AFTER = 120.0
HF_DELAY = 1.0  # seconds between two requests to the Hugging Face daily-papers API


class HarvestError(Exception):
    """The API refused the query (4xx) or stayed unreachable through every retry."""

    def __init__(self, message: str, *, url: str = "", status: int | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.status = status
        self.partial: HarvestResult | None = None  # what was imported before the error (kept)


class _Transient(Exception):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass
class HarvestResult:
    stats: store.ImportStats = field(default_factory=store.ImportStats)
    requests: int = 0
    pages: int = 0
    total_results: int | None = None
    stop_reason: str = ""


def build_query(categories: Sequence[str], since: dt.date, until: dt.date) -> str:
    """`(cat:cs.LG OR cat:cs.CL) AND submittedDate:[202501010000 TO 202501312359]`."""
    cats = " OR ".join(f"cat:{c}" for c in categories)
    if len(categories) > 1:
        cats = f"({cats})"
    return f"{cats} AND submittedDate:[{since:%Y%m%d}0000 TO {until:%Y%m%d}2359]"


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


class ArxivClient:
    """GET pages of the arXiv API with spacing between requests and retries with exponential backoff."""

    def __init__(
        self,
        base_url: str | None = None,
        *,
        delay: float | None = None,
        timeout: float | None = None,
        attempts: int = 4,
        backoff: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        user_agent: str | None = None,
        name: str = "arXiv API",
        accept: str = "application/atom+xml, application/xml",
    ) -> None:
        self.base_url = base_url or settings.PAPERBOARD_ARXIV_API_URL
        self.name, self.accept = name, accept
        delay = float(settings.PAPERBOARD_ARXIV_DELAY if delay is None else delay)
        host = (urllib.parse.urlsplit(self.base_url).hostname or "").lower()
        if host == "arxiv.org" or host.endswith(".arxiv.org"):
            delay = max(delay, MIN_ARXIV_DELAY)
        self.delay = max(0.0, delay)
        self.timeout = float(settings.PAPERBOARD_HTTP_TIMEOUT if timeout is None else timeout)
        self.attempts = max(1, attempts)
        # First retry waits 2 x backoff, then 4 x, 8 x ... (6 s, 12 s, 24 s against arxiv.org).
        self.backoff = max(self.delay, 1.0) if backoff is None else max(0.0, backoff)
        self.sleep = sleep
        self.clock = clock
        base = getattr(settings, "BASE_URL", "")
        self.user_agent = user_agent or (f"{USER_AGENT} (+{base})" if base else USER_AGENT)
        self.requests = 0
        self._last: float | None = None

    def url(self, params: dict) -> str:
        sep = "&" if "?" in self.base_url else "?"
        return self.base_url + sep + urllib.parse.urlencode(params)

    def _wait_turn(self, at_least: float = 0.0) -> None:
        wait = at_least
        if self._last is not None:
            wait = max(wait, self.delay - (self.clock() - self._last))
        if wait > 0:
            self.sleep(wait)

    def _once(self, url: str) -> bytes:
        request = urllib.request.Request(
            url, headers={"User-Agent": self.user_agent, "Accept": self.accept}
        )
        self.requests += 1
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return response.read()
        except urllib.error.HTTPError as exc:
            body = b""
            try:
                body = exc.read()
            except (OSError, http.client.HTTPException):
                pass
            if exc.code >= 500 or exc.code == 429:
                raise _Transient(f"HTTP {exc.code}", _retry_after(exc.headers.get("Retry-After"))) from exc
            message = f"{self.name} answered HTTP {exc.code} {exc.reason} for {url}"
            detail = atom.parse_feed(body, url).error if body.lstrip().startswith(b"<") else None
            if detail:
                message += f": {detail}"
            raise HarvestError(message, url=url, status=exc.code) from None
        except urllib.error.URLError as exc:
            raise _Transient(f"cannot reach the {self.name} ({exc.reason})") from exc
        except TimeoutError as exc:  # socket.timeout is TimeoutError
            raise _Transient(f"timed out after {self.timeout:g} s") from exc
        except (ConnectionError, http.client.HTTPException) as exc:
            raise _Transient(f"connection failed ({exc.__class__.__name__}: {exc})") from exc
        finally:
            self._last = self.clock()

    def get_page(
        self, params: dict, log: Callable[[str], None] = lambda _m: None
    ) -> tuple[str, atom.AtomPage]:
        """Fetch and parse one page; retries transient failures (and unreadable XML) with backoff."""

        def parse(data: bytes) -> atom.AtomPage:
            page = atom.parse_feed(data, f"{self.name} (start={params.get('start', 0)})")
            if page.malformed:
                raise _Transient(page.error or "unreadable response")
            return page

        return self.get(params, parse, log)

    def get(self, params: dict, parse: Callable[[bytes], object], log: Callable[[str], None] = lambda _m: None):
        """GET `params` and return `(url, parse(body))`; a transient failure, or `parse` raising
        `_Transient`, is retried with backoff; raises HarvestError once the attempts are spent."""
        url = self.url(params)
        backoff = 0.0
        for attempt in range(1, self.attempts + 1):
            self._wait_turn(backoff)
            try:
                return url, parse(self._once(url))
            except _Transient as exc:
                if attempt == self.attempts:
                    raise HarvestError(
                        f"{self.name} failed {self.attempts} times for {url}: {exc}", url=url
                    ) from None
                backoff = self.backoff * 2**attempt
                if exc.retry_after is not None:
                    backoff = max(backoff, min(exc.retry_after, MAX_RETRY_AFTER))
                log(f"  {exc}; retrying in {backoff:g} s (attempt {attempt + 1} of {self.attempts})")
        raise AssertionError("unreachable")


def harvest_arxiv(
    categories: Sequence[str],
    since: dt.date,
    until: dt.date | None = None,
    *,
    page_size: int = 100,
    max_results: int | None = None,
    stop_when_unchanged: bool = True,
    client: ArxivClient | None = None,
    sleep: Callable[[float], None] = time.sleep,
    log: Callable[[str], None] = lambda _m: None,
    on_reject: Callable[[Rejected], None] | None = None,
) -> HarvestResult:
    """Harvest the papers submitted in `categories` between `since` and `until` (inclusive, UTC days)."""
    categories = [c.strip() for c in categories if c.strip()]
    if not categories:
        raise ValueError("give at least one category")
    bad = [c for c in categories if not clean.CATEGORY_RE.match(c)]
    if bad:
        raise ValueError(f"not an arXiv category: {', '.join(bad)}")
    until = until or dt.datetime.now(dt.UTC).date()
    if until < since:
        raise ValueError(f"--until {until} is before --since {since}")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"page size must be between 1 and {MAX_PAGE_SIZE}")
    if max_results is not None and max_results < 1:
        raise ValueError("max results must be at least 1")
    client = client or ArxivClient(sleep=sleep)
    query = build_query(categories, since, until)
    result = HarvestResult()
    requests_before = client.requests
    start = 0
    log(f"arXiv query: {query}")
    while True:
        size = page_size if max_results is None else min(page_size, max_results - start)
        params = {
            "search_query": query,
            "sortBy": "submittedDate",
            "sortOrder": "descending",
            "start": start,
            "max_results": size,
        }
        try:
            url, page = client.get_page(params, log=log)
            if page.error:
                raise HarvestError(f"arXiv API error for {url}: {page.error}", url=url)
        except HarvestError as exc:
            result.requests = client.requests - requests_before
            exc.partial = result
            raise
        result.requests = client.requests - requests_before
        result.pages += 1
        if page.total_results is not None:
            result.total_results = page.total_results
        records = page.records[:size]
        stats = store.import_records(records, on_reject=on_reject)
        result.stats.add(stats)
        count = len(records)
        of = f" of {page.total_results}" if page.total_results is not None else ""
        if count:
            log(f"page {result.pages}: results {start + 1}-{start + count}{of}: {stats.summary()}")
        else:
            log(f"page {result.pages}: no results from {start + 1}{of}")
        start += count
        if count == 0:
            result.stop_reason = "empty page"
        elif page.total_results is not None and start >= page.total_results:
            result.stop_reason = "all results fetched"
        elif max_results is not None and start >= max_results:
            result.stop_reason = f"reached --max-results {max_results}"
        elif stop_when_unchanged and stats.new == 0 and stats.updated == 0:
            result.stop_reason = "nothing new on this page"
        if result.stop_reason:
            return result


MAX_ID_LIST = 100  # ids per `id_list=` request: keeps the URL short; the API pages the answer like a search


def fetch_by_ids(
    arxiv_ids: Sequence[str],
    *,
    client: ArxivClient | None = None,
    log: Callable[[str], None] = lambda _m: None,
) -> list[atom.PaperRecord | Rejected]:
    """Fetch specific papers from the arXiv API (`id_list=`) through `client` (same spacing and retries).

    Returns the parsed records; nothing is written (upsert them with `store.import_records`). An id
    arXiv does not know is simply absent from the result (the API answers an empty feed or an error
    entry, which comes back as a Rejected). Raises HarvestError when the API refuses the request (4xx)
    or stays unreachable through the client's retries.
    """
    wanted = list(dict.fromkeys(i.strip() for i in arxiv_ids if i and i.strip()))
    client = client or ArxivClient()
    out: list[atom.PaperRecord | Rejected] = []
    for i in range(0, len(wanted), MAX_ID_LIST):
        chunk = wanted[i : i + MAX_ID_LIST]
        _url, page = client.get_page({"id_list": ",".join(chunk), "start": 0, "max_results": len(chunk)}, log=log)
        out.extend(page.records)
    return out


def harvest_hf_daily(
    days: Sequence[dt.date],
    base_url: str,
    *,
    client: ArxivClient | None = None,
    log: Callable[[str], None] = lambda _m: None,
    on_reject: Callable[[Rejected], None] | None = None,
) -> HarvestResult:
    """Import Hugging Face's daily papers (`GET base_url?date=YYYY-MM-DD`, the `/api/daily_papers` JSON) for
    each of `days`: the papers, their day on the feed, imported upvotes, comment counts and GitHub stars.
    Idempotent: a day read twice changes nothing the second time."""
    client = client or ArxivClient(
        base_url, name="Hugging Face daily-papers API", accept="application/json", delay=HF_DELAY
    )
    result = HarvestResult()
    requests_before = client.requests
    for day in days:
        source = f"daily papers of {day}"
        try:
            _url, records = client.get({"date": day.isoformat()}, lambda data: list(hf_daily.parse(data, source)), log)
        except HarvestError as exc:
            result.requests = client.requests - requests_before
            exc.partial = result
            raise
        stats = store.import_records(records, on_reject=on_reject)
        result.stats.add(stats)
        result.pages += 1
        log(f"{source}: {stats.summary()}")
    result.requests = client.requests - requests_before
    result.stop_reason = "every day read"
    return result
