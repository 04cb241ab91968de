from django.utils import timezone

from paperboard.papers import periods


def navigation(request):
    """This week's and this month's feed links for the header."""
    today = periods.day(timezone.localdate())
    return {"nav_periods": {"week": today.as_kind("week"), "month": today.as_kind("month")}}
