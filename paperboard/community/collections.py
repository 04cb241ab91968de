"""Collections: named lists of papers a user keeps ("bookmarks"), public or private."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils.text import slugify

from paperboard.accounts.status import check_can_write
from paperboard.community.models import Collection, CollectionItem
from paperboard.errors import Refused
from paperboard.papers import queries
from paperboard.papers.models import Paper
from paperboard.safetext import storable

NAME_MAX = 100
DESCRIPTION_MAX = 1000
MAX_PER_USER = 200


def _clean_name(name: str | None) -> str:
    name = " ".join(storable(name or "").split())
    if not name:
        raise Refused("empty", "give the collection a name", 400)
    if len(name) > NAME_MAX:
        raise Refused("too_long", f"a collection name is at most {NAME_MAX} characters", 400)
    return name


def _clean_description(text: str | None) -> str:
    text = storable(text or "").replace("\r\n", "\n").strip()
    if len(text) > DESCRIPTION_MAX:
        raise Refused("too_long", f"a description is at most {DESCRIPTION_MAX} characters", 400)
    return text


def _free_slug(user, name: str) -> str:
    base = slugify(name)[:100] or "collection"
    taken = set(Collection.objects.filter(user=user, slug__startswith=base).values_list("slug", flat=True))
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def create(user, name: str, description: str = "", public: bool = False) -> Collection:
    check_can_write(user)
    name = _clean_name(name)
    description = _clean_description(description)
    if Collection.objects.filter(user=user).count() >= MAX_PER_USER:
        raise Refused("too_many", f"at most {MAX_PER_USER} collections per account", 400)
    for _ in range(5):  # a concurrent create may take the same slug: pick the next one
        try:
            with transaction.atomic():
                return Collection.objects.create(
                    user=user, name=name, slug=_free_slug(user, name), description=description, public=public
                )
        except IntegrityError:
            continue
    raise Refused("conflict", "could not create the collection; try again", 409)


def _own(user, collection: Collection) -> None:
    check_can_write(user)
    if collection.user_id != user.pk:
        raise Refused("not_yours", "only its owner can change a collection", 403)


def add(user, collection: Collection, paper: Paper) -> bool:
    """Put `paper` in `collection`; False when it was there already."""
    _own(user, collection)
    if paper.hidden:
        raise Refused("not_found", "paper not found", 404)
    try:
        with transaction.atomic():
            CollectionItem.objects.create(collection=collection, paper=paper)
    except IntegrityError:
        return False
    return True


def remove(user, collection: Collection, paper: Paper) -> bool:
    _own(user, collection)
    return CollectionItem.objects.filter(collection=collection, paper=paper).delete()[0] > 0


def update(user, collection: Collection, *, name: str, description: str, public: bool) -> Collection:
    """Rename, describe, make public or private. The slug (URL) stays as it was."""
    _own(user, collection)
    collection.name = _clean_name(name)
    collection.description = _clean_description(description)
    collection.public = bool(public)
    collection.save(update_fields=["name", "description", "public"])
    return collection


def delete(user, collection: Collection) -> None:
    _own(user, collection)
    collection.delete()


def visible_to(viewer, owner_username: str, slug: str) -> Collection:
    """The collection at /u/<owner>/collections/<slug>, or Refused 404 if it does not exist or is private
    and `viewer` is not its owner (a private collection's existence is not revealed)."""
    c = Collection.objects.select_related("user").filter(user__username=owner_username, slug=slug).first()
    is_owner = c is not None and viewer is not None and viewer.is_authenticated and viewer.pk == c.user_id
    if c is None or not (c.public or is_owner):
        raise Refused("not_found", "collection not found", 404)
    return c


def papers_in(collection: Collection, *, user=None) -> list[queries.Card]:
    """The cards of the visible papers in a collection, most recently added first (`voted` for `user`)."""
    ids = (
        CollectionItem.objects.filter(collection=collection, paper__hidden=False)
        .order_by("-added", "-pk")
        .values_list("paper_id", flat=True)
    )
    return queries.load_cards(ids, user=user)


def profile_section(request, owner) -> dict:
    """The collections part of a profile page (community/_profile_extras.html): `cols`."""
    return {"cols": of_user(owner, getattr(request, "user", None))}


def of_user(owner, viewer=None) -> list[Collection]:
    """`owner`'s collections that `viewer` may see (all of them for the owner, public ones otherwise),
    each with `.count` (visible papers)."""
    qs = Collection.objects.filter(user=owner)
    if viewer is None or not viewer.is_authenticated or viewer.pk != owner.pk:
        qs = qs.filter(public=True)
    qs = qs.annotate(count=Count("items", filter=Q(items__paper__hidden=False)))
    return list(qs.order_by("name", "pk"))


def for_paper(user, paper: Paper) -> list[Collection]:
    """The user's collections, each with `.has_paper` (whether `paper` is in it)."""
    if user is None or not user.is_authenticated:
        return []
    rows = list(Collection.objects.filter(user=user).order_by("name", "pk"))
    items = CollectionItem.objects.filter(collection__user=user, paper=paper)
    inside = set(items.values_list("collection_id", flat=True))
    for c in rows:
        c.has_paper = c.pk in inside
    return rows
