"""Digest forms. Bad input becomes field errors shown on the page, never an exception."""

from __future__ import annotations

import re

from django import forms

from paperboard.digests import preferences
from paperboard.digests.models import FREQUENCIES
from paperboard.search import query


class SubscribeForm(forms.Form):
    email = forms.EmailField(
        max_length=254,
        label="Email address",
        help_text="We send a link to confirm it; nothing else comes before you click it.",
        widget=forms.EmailInput(attrs={"autocomplete": "email", "placeholder": "you@example.org"}),
    )


class PreferencesForm(forms.Form):
    frequency = forms.ChoiceField(choices=FREQUENCIES, widget=forms.RadioSelect, label="How often")
    sections = forms.MultipleChoiceField(
        choices=[(k, preferences.SECTIONS[k]) for k in preferences.CHOOSABLE],
        widget=forms.CheckboxSelectMultiple, required=False, label="Sections",
    )
    categories = forms.CharField(
        required=False, max_length=1000, label="arXiv categories",
        help_text=f"New papers on the feed in these categories, e.g. cs.LG cs.CL, or a whole archive such as "
                  f"math; at most {preferences.MAX_CATEGORIES}.",
    )
    topics = forms.CharField(
        required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 4}), label="Topics",
        help_text=f"Saved searches, one per line, written as in the search box (\"diffusion models\" -survey, "
                  f"author:Hinton); at most {preferences.MAX_TOPICS}.",
    )
    max_papers = forms.IntegerField(min_value=1, max_value=preferences.MAX_PAPERS, label="At most this many papers")
    min_upvotes = forms.IntegerField(min_value=0, max_value=preferences.MAX_MIN_UPVOTES,
                                     label="Only papers with at least this many upvotes")
    paused = forms.BooleanField(required=False, label="Pause: send nothing until I come back and untick this")

    def __init__(self, *args, has_account: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.has_account = has_account
        if not has_account:
            self.fields["sections"].choices = [c for c in self.fields["sections"].choices if c[0] != "for_you"]

    @classmethod
    def for_subscription(cls, subscription, data=None):
        prefs = preferences.of(subscription)
        initial = {
            "frequency": subscription.frequency,
            "sections": list(prefs.sections),
            "categories": " ".join(prefs.categories),
            "topics": "\n".join(prefs.topics),
            "max_papers": prefs.max_papers,
            "min_upvotes": prefs.min_upvotes,
            "paused": subscription.paused,
        }
        return cls(data, initial=initial, has_account=subscription.user_id is not None)

    def clean_categories(self) -> tuple[str, ...]:
        words = [w for w in re.split(r"[\s,]+", self.cleaned_data["categories"]) if w]
        bad = [w for w in words if query.normalise_category(w) is None]
        if bad:
            raise forms.ValidationError(f"Not an arXiv category: {', '.join(bad[:5])}")
        codes = preferences.clean_categories(words)
        if len(set(words)) > preferences.MAX_CATEGORIES:
            raise forms.ValidationError(f"At most {preferences.MAX_CATEGORIES} categories.")
        return codes

    def clean_topics(self) -> tuple[str, ...]:
        lines = [" ".join(line.split()) for line in self.cleaned_data["topics"].splitlines()]
        lines = [line for line in lines if line]
        if len(lines) > preferences.MAX_TOPICS:
            raise forms.ValidationError(f"At most {preferences.MAX_TOPICS} topics.")
        for line in lines:
            if len(line) > preferences.MAX_TOPIC_LENGTH:
                raise forms.ValidationError(f"A topic is at most {preferences.MAX_TOPIC_LENGTH} characters.")
            if query.parse(line).is_empty:
                raise forms.ValidationError(f"“{line}” searches for nothing.")
        return preferences.clean_topics(lines)

    def to_preferences(self) -> preferences.Preferences:
        data = self.cleaned_data
        sections = [s for s in data["sections"] if self.has_account or s != "for_you"]
        return preferences.Preferences(
            sections=tuple(s for s in preferences.CHOOSABLE if s in sections),
            categories=data["categories"],
            topics=data["topics"],
            max_papers=data["max_papers"],
            min_upvotes=data["min_upvotes"],
        )
