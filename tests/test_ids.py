import pytest

from paperboard.papers import ids


@pytest.mark.parametrize("text,expected", [
    ("2305.15717", ("2305.15717", None)), ("2305.15717v3", ("2305.15717", 3)), ("arXiv:2305.15717v1", ("2305.15717", 1)),
    ("0704.0001", ("0704.0001", None)), ("1412.9999v2", ("1412.9999", 2)), ("cs/0610105", ("cs/0610105", None)),
    ("math.AP/0601001v2", ("math.AP/0601001", 2)), ("hep-th/9901001", ("hep-th/9901001", None)),
])
def test_ids_split_into_bare_id_and_version(text, expected):
    assert ids.split_version(text) == expected


@pytest.mark.parametrize("url", [
    "https://arxiv.org/abs/2305.15717", "http://arxiv.org/abs/2305.15717v2", "arxiv.org/pdf/2305.15717",
    "https://arxiv.org/pdf/2305.15717v1.pdf", "https://arxiv.org/html/2305.15717v2", "https://export.arxiv.org/abs/2305.15717?x=1",
    "https://www.arxiv.org/abs/2305.15717/",
])
def test_every_arxiv_url_form_gives_the_bare_id(url):
    assert ids.normalise(url) == "2305.15717"


@pytest.mark.parametrize("bad", ["", "hello", "2305.157", "2501.0999", "1412.12345", "2513.12345", "23051.5717",
                                 "https://example.org/abs/2305.15717", "../etc/passwd"])
def test_things_that_are_not_arxiv_ids_are_refused(bad):
    with pytest.raises(ids.InvalidArxivId):
        ids.normalise(bad)
