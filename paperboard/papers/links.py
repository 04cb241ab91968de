"""The links of a paper, for anything with an `arxiv_id`: the `Paper` model and the `Card` that stands in
for it (papers/cards.py) answer them alike."""

from __future__ import annotations


class ArxivLinks:
    @property
    def abs_url(self) -> str:
        return f"https://arxiv.org/abs/{self.arxiv_id}"

    @property
    def pdf_url(self) -> str:
        return f"https://arxiv.org/pdf/{self.arxiv_id}"

    def get_absolute_url(self) -> str:
        return f"/papers/{self.arxiv_id}"
