"""Comment Markdown: python-markdown with raw HTML removed, then sanitised with nh3.

Two layers, so either one alone keeps pages safe:

1. Raw HTML written in a comment does not survive: every tag of it is removed (the text between harmless
   tags stays; the content of script, style, svg, iframe and the like goes too). Code spans and fenced
   code blocks are not HTML: `<b>` written there is shown as text. Only real HTML element names count
   as tags: `n<k and k>2` or `<think>` stay as text.
2. The output goes through an nh3 allow-list: a few formatting tags, `href` on links only, only
   http/https/mailto URLs (plus `/u/<username>` for @mentions), `rel="nofollow noopener"` on every link.
   No style, no event handlers, no images, no `javascript:` or `data:` URLs.

`@username` of an existing user becomes a link to `/u/<username>`.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as etree

import markdown as md_lib
import nh3
from django.contrib.auth import get_user_model
from markdown.extensions import Extension
from markdown.inlinepatterns import HTML_RE, HtmlInlineProcessor, InlineProcessor
from markdown.postprocessors import Postprocessor
from markdown.preprocessors import Preprocessor
from markdown.treeprocessors import Treeprocessor

MAX_LENGTH = 10_000  # characters of Markdown source
# Inputs that would make python-markdown slow (some of its rules rescan the rest of the text, which is
# quadratic) are refused. Link rules scan from each "[" to its "]" (or to the end when there is none):
# the scans add up to at most MAX_BRACKET_SCAN characters outside code. Each unclosed code fence rescans
# the rest too: at most MAX_FENCES fence lines. At these limits a 10,000-character comment renders in
# about a tenth of a second.
MAX_BRACKET_SCAN = 200_000
MAX_FENCES = 200
_FENCE_LINE_RE = re.compile(r"^ {0,3}(```|~~~)", re.M)
# Fenced blocks, and code spans: a whole run of backticks closed by a run of the same length.
_CODE_RE = re.compile(r"^(```|~~~).*?^\1[^\n]*$|(?<!`)(`+)(?!`).*?(?<!`)\2(?!`)", re.S | re.M)


class TooComplex(ValueError):
    pass


def check_complexity(text: str) -> None:
    """Raise TooComplex for text that would make rendering slow (see MAX_BRACKET_SCAN)."""
    text = text or ""
    if len(_FENCE_LINE_RE.findall(text)) > MAX_FENCES:
        raise TooComplex(f"too many code fences (at most {MAX_FENCES})")
    prose = _CODE_RE.sub("", text)
    open_at: list[int] = []
    scan = 0
    for i, ch in enumerate(prose):
        if ch == "[":
            open_at.append(i)
        elif ch == "]" and open_at:
            scan += i - open_at.pop()
    scan += sum(len(prose) - i for i in open_at)
    if scan > MAX_BRACKET_SCAN:
        raise TooComplex("too many unclosed or deeply nested [ brackets; put code in backticks")


ALLOWED_TAGS = {
    "p", "br", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li", "a", "hr",
    "h3", "h4", "h5", "h6",
}
ALLOWED_ATTRIBUTES = {"a": {"href"}}
URL_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "nofollow noopener"

# Usernames as Django allows them, less "@" (so e-mail addresses are not mentions).
MENTION_RE = re.compile(r"(?<![\w@./+-])@([\w.+-]{1,150})")
MENTION_PATH_RE = re.compile(r"^/u/[\w.+-]{1,150}$")


def _relative_url(url: str) -> str | None:
    """Relative URLs are refused except the profile links that mentions make."""
    return url if MENTION_PATH_RE.match(url) else None


_cleaner = nh3.Cleaner(
    tags=ALLOWED_TAGS,
    clean_content_tags={"script", "style"},
    attributes=ALLOWED_ATTRIBUTES,
    url_schemes=URL_SCHEMES,
    url_relative=_relative_url,
    link_rel=LINK_REL,
    strip_comments=True,
)


# Raw HTML is reduced to its text; these elements lose their content too.
_DROP_CONTENT = {
    "script", "style", "svg", "math", "iframe", "frame", "frameset", "object", "embed", "applet", "template",
    "noscript", "noembed", "noframes", "xmp", "textarea", "select", "title", "head", "plaintext",
}
_text_only = nh3.Cleaner(tags=set(), clean_content_tags=_DROP_CONTENT, attributes={}, strip_comments=True)


# Names that make `<name …>` raw HTML (removed); any other `<word …>` is kept as text.
HTML_ELEMENTS = frozenset("""
a abbr acronym address applet area article aside audio b base basefont bdi bdo bgsound big blink blockquote
body br button canvas caption center cite code col colgroup data datalist dd del details dfn dialog dir div dl
dt em embed fieldset figcaption figure font footer form frame frameset h1 h2 h3 h4 h5 h6 head header hgroup hr
html i iframe image img input ins isindex kbd keygen label legend li link listing main map mark marquee math
menu menuitem meta meter multicol nav nextid nobr noembed noframes noscript object ol optgroup option output p
param picture plaintext portal pre progress q rb rp rt rtc ruby s samp script search section select slot small
source spacer span strike strong style sub summary sup svg table tbody td template textarea tfoot th thead
time title tr track tt u ul var video wbr xmp
animate animatemotion animatetransform circle ellipse foreignobject g image line mglyph mi mn mo ms mtext path
polygon polyline rect set text tspan use
""".split())
_TAG_NAME_RE = re.compile(r"^</?([a-zA-Z][a-zA-Z0-9-]*)")
# Elements whose content goes with them: whole ones anywhere in the text (a pre-pass), and an unclosed
# one to the end of its paragraph (an inline rule).
_DROP_NAMES = "script|style|svg|math|iframe|object|template|noscript|textarea|title|xmp|noembed|noframes"
_WHOLE_ELEMENT_RE = re.compile(rf"<({_DROP_NAMES})\b[^>]*>.*?</\1\s*>", re.I | re.S)
_DROP_ELEMENT_RE = rf"(?is)<({_DROP_NAMES})\b[^>]*>.*?(?:</\1\s*>|$)"


def sanitize(html: str) -> str:
    """Apply the allow-list to an HTML fragment."""
    return _cleaner.clean(html)


class _MentionProcessor(InlineProcessor):
    def __init__(self, pattern: str, known: set[str]):
        super().__init__(pattern)
        self.known = known

    def handleMatch(self, m, data):  # noqa: N802 (python-markdown's name)
        name = m.group(1)
        while name and name not in self.known and name[-1] in ".-+":
            name = name[:-1]  # "@bob." at the end of a sentence
        if name not in self.known:
            return None, None, None
        el = etree.Element("a")
        el.set("href", f"/u/{name}")
        el.text = f"@{name}"
        return el, m.start(0), m.start(0) + 1 + len(name)


class _Tidy(Treeprocessor):
    """Demote headings (h1 → h3 …) so a comment never outranks the page; no links inside links."""

    DEMOTE = {"h1": "h3", "h2": "h4", "h3": "h5", "h4": "h6", "h5": "h6"}

    def run(self, root):
        for el in root.iter():
            if el.tag in self.DEMOTE:
                el.tag = self.DEMOTE[el.tag]
            if el.tag == "a":
                for inner in el.iter("a"):
                    if inner is not el:
                        inner.tag = "span"  # not allowed by the sanitiser: its text stays, the tag goes
                        inner.attrib.clear()
        return None


class _MarkRawStart(Preprocessor):
    """Runs after fenced code (which stashes its own, safe, HTML): notes where in the stash raw HTML
    starts, and removes whole dangerous elements (`<script>…</script>` and the like, even across blank
    lines) outside code spans. python-markdown's own HTML-block rule is switched off: it is quadratic
    on unclosed tags, and every tag it would keep is removed anyway."""

    def run(self, lines):
        self.md.raw_html_from = len(self.md.htmlStash.rawHtmlBlocks)
        text = "\n".join(lines)
        out, pos = [], 0
        for code in _CODE_RE.finditer(text):
            out.append(_WHOLE_ELEMENT_RE.sub("", text[pos : code.start()]))
            out.append(code.group(0))
            pos = code.end()
        out.append(_WHOLE_ELEMENT_RE.sub("", text[pos:]))
        return "".join(out).split("\n")


class _DropRawHtml(Postprocessor):
    """Before stashed HTML goes back into the output: raw HTML blocks and inline tags become plain text."""

    def run(self, text):
        stash = self.md.htmlStash.rawHtmlBlocks
        for i in range(getattr(self.md, "raw_html_from", 0), len(stash)):
            stash[i] = _text_only.clean(str(stash[i]))
        return text


class _RawTag(HtmlInlineProcessor):
    """Python-markdown's inline HTML rule, limited to real HTML element names and comments."""

    def handleMatch(self, m, data):  # noqa: N802
        raw = m.group(1)
        name = _TAG_NAME_RE.match(raw)
        tag = name.group(1).lower() if name else ""
        if not raw.startswith("<!--") and tag not in HTML_ELEMENTS and "-" not in tag:  # x-y: custom elements
            return None, None, None
        return super().handleMatch(m, data)


class _DropElement(InlineProcessor):
    def handleMatch(self, m, data):  # noqa: N802
        return self.md.htmlStash.store(""), m.start(0), m.end(0)


class _CommentExtension(Extension):
    def __init__(self, known: set[str]):
        super().__init__()
        self.known = known

    def extendMarkdown(self, md):  # noqa: N802
        md.preprocessors.deregister("html_block")
        md.preprocessors.register(_MarkRawStart(md), "paperboard_raw_from", 22)  # after fenced_code (25)
        md.postprocessors.register(_DropRawHtml(md), "paperboard_drop_raw_html", 35)  # raw_html is 30
        md.inlinePatterns.register(_RawTag(HTML_RE, md), "html", 90)
        md.inlinePatterns.register(_DropElement(_DROP_ELEMENT_RE, md), "paperboard_drop_element", 95)
        md.inlinePatterns.register(_MentionProcessor(MENTION_RE.pattern, self.known), "mention", 45)
        md.treeprocessors.register(_Tidy(md), "paperboard_tidy", 0)


def mentioned_usernames(text: str) -> set[str]:
    """Existing users named with @ in `text` (one query)."""
    candidates: set[str] = set()
    for m in MENTION_RE.finditer(text or ""):
        name = m.group(1)
        candidates.add(name)
        candidates.add(name.rstrip(".-+"))
    candidates.discard("")
    if not candidates:
        return set()

    return set(get_user_model().objects.filter(username__in=candidates).values_list("username", flat=True))


def render(text: str) -> str:
    """Markdown source → safe HTML. Raises TooComplex (see check_complexity)."""
    check_complexity(text)
    known = mentioned_usernames(text)
    md = md_lib.Markdown(
        extensions=["fenced_code", "sane_lists", "nl2br", _CommentExtension(known)],
        output_format="html",
    )
    return sanitize(md.convert(text or ""))
