"""The paper page (`/papers/<id>`, also `.json` and `.md`): the view builds everything the page shows,
the paper with its submission and the viewer's vote, why it is trending, similar papers and the
discussion, so that the templates only format (see docs/architecture.md)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from paperboard.community import trending
from paperboard.community.views_discuss import discuss_context
from paperboard.papers import caching, ids, queries, sections, shapes
from paperboard.papers.models import Paper


def _wants_json(request: HttpRequest, fmt: str | None) -> bool:
    return fmt == ".json" or request.GET.get("format") == "json"


def _markdown(paper) -> str:
    lines = [f"# {paper.title}", "", f"**arXiv:** {paper.arxiv_id}v{paper.version}", ""]
    if paper.author_names:
        lines += [f"**Authors:** {', '.join(paper.author_names)}", ""]
    lines += ["## Abstract", "", paper.abstract, ""]
    return "\n".join(lines)


def page_context(request: HttpRequest, paper: Paper) -> dict:
    """Everything papers/paper.html and its parts show; every query of the page runs here."""
    return {
        "paper": paper,
        "submission": paper.feed_submission,
        "json_url": f"/papers/{paper.arxiv_id}.json",
        "why": trending.explain(paper),
        "d": discuss_context(request, paper),
        **sections.context(request, paper),  # similar papers (search)
    }


@require_GET
def paper_page(request: HttpRequest, arxiv_id: str, fmt: str | None = None) -> HttpResponse:
    try:
        bare, version = ids.split_version(arxiv_id)
    except ids.InvalidArxivId:  # shaped like an id but impossible (month 99, version 0): a paper we do not have
        bare, version = arxiv_id, None
    if version is not None and not fmt:
        return redirect(f"/papers/{bare}", permanent=False)

    def build() -> HttpResponse:
        paper = queries.paper(bare, user=request.user)
        if paper is None:
            if _wants_json(request, fmt):
                return JsonResponse({"error": f"paper {bare} not found", "code": "not_found"}, status=404)
            raise Http404(f"paper {bare} not found")
        if _wants_json(request, fmt):
            return JsonResponse(shapes.paper_json(paper, paper.feed_submission))
        if fmt == ".md":
            return HttpResponse(_markdown(paper), content_type="text/markdown; charset=utf-8")
        return render(request, "papers/paper.html", page_context(request, paper))

    return caching.cached_response(request, build)
