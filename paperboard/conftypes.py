"""What each setting in `paperboard.conf` accepts: small types that turn the raw environment string into a
value, or refuse it with `Bad`. `accepts` is the phrase error messages and docs/settings.md use."""

from __future__ import annotations

import ipaddress
import math
import re
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parseaddr
from urllib.parse import urlsplit


class Bad(ValueError):
    """A value a type does not accept. Its text, when there is one, says why (the value itself is not
    repeated for secret settings)."""


@dataclass(frozen=True)
class Text:
    accepts: str = "any text"
    secret: bool = False  # never repeat the value in an error message
    required: bool = False

    def parse(self, raw: str) -> str:
        if self.required and not raw.strip():
            raise Bad("an empty value")
        if "\x00" in raw:
            raise Bad("a value with a NUL character")
        return raw


@dataclass(frozen=True)
class Flag:
    accepts: str = "true or false (or 1/0, yes/no, on/off)"
    secret: bool = False

    def parse(self, raw: str) -> bool:
        value = raw.strip().lower()
        if value in {"1", "true", "yes", "on"}:
            return True
        if value in {"0", "false", "no", "off", ""}:
            return False
        raise Bad()


@dataclass(frozen=True)
class Whole:
    lo: int
    hi: int | None = None
    secret: bool = False

    @property
    def accepts(self) -> str:
        return f"a whole number from {self.lo} to {self.hi}" if self.hi is not None else \
            f"a whole number, {self.lo} or more"

    def parse(self, raw: str) -> int:
        try:
            value = int(raw.strip())
        except ValueError:
            raise Bad() from None
        if value < self.lo or (self.hi is not None and value > self.hi):
            raise Bad()
        return value


@dataclass(frozen=True)
class Number:
    lo: float = 0
    above: bool = False  # True: `lo` itself is refused too (a timeout of 0 s)
    secret: bool = False

    @property
    def accepts(self) -> str:
        return f"a number above {self.lo:g}" if self.above else f"a number, {self.lo:g} or more"

    def parse(self, raw: str) -> float:
        try:
            value = float(raw.strip())
        except ValueError:
            raise Bad() from None
        if not math.isfinite(value) or value < self.lo or (self.above and value == self.lo):
            raise Bad()
        return value


@dataclass(frozen=True)
class Choice:
    options: tuple[str, ...]
    secret: bool = False

    @property
    def accepts(self) -> str:
        quoted = [f"`{o}`" for o in self.options]
        return "one of " + ", ".join(quoted[:-1]) + " or " + quoted[-1] if len(quoted) > 2 else " or ".join(quoted)

    def parse(self, raw: str) -> str:
        value = raw.strip().lower()
        if value not in self.options:
            raise Bad()
        return value


@dataclass(frozen=True)
class Url:
    accepts: str
    schemes: tuple[str, ...]
    empty: bool = False  # an empty value is allowed (the setting's "off" or "default")
    hostless: tuple[str, ...] = ()  # schemes that may leave the host out (a file, a local socket)
    secret: bool = False  # URLs with passwords in them: the value is never repeated
    check: Callable[[str], object] | None = None  # a further parse that raises ValueError on a bad value

    def parse(self, raw: str) -> str:
        value = raw.strip()
        if not value:
            if self.empty:
                return ""
            raise Bad("an empty value")
        parts = urlsplit(value)
        if parts.scheme.lower() not in self.schemes:
            raise Bad(f"a {parts.scheme!r} URL" if parts.scheme else "a value without a scheme (`…://`)")
        if parts.scheme.lower() not in self.hostless and not parts.hostname:
            raise Bad("a URL without a host")
        try:
            parts.port  # noqa: B018 - raises ValueError on a port that is not 0-65535
        except ValueError:
            raise Bad("a URL whose port is not a number from 0 to 65535") from None
        try:
            if self.check is not None:
                self.check(value)
        except ValueError as exc:
            raise Bad(f"a URL that does not parse ({exc})") from None
        return value


def _comma_list(raw: str, valid: Callable[[str], bool]) -> list[str]:
    """The items of a comma-separated list, empty ones dropped; the first item `valid` refuses is named."""
    items = [item.strip() for item in raw.split(",") if item.strip()]
    for item in items:
        if not valid(item):
            raise Bad(repr(item))
    return items


# arXiv category codes: cs.LG, math.AP, hep-th, q-bio.NC, astro-ph.GA ... (settings and the importer)
CATEGORY_RE = re.compile(r"^[a-z][a-z\-]*(?:\.[A-Za-z\-]{2,})?$")


@dataclass(frozen=True)
class Names:
    """A comma-separated list; each item must match `pattern`. Empty items are dropped."""

    accepts: str
    pattern: re.Pattern
    secret: bool = False

    def parse(self, raw: str) -> list[str]:
        return _comma_list(raw, lambda item: bool(self.pattern.match(item)))


@dataclass(frozen=True)
class Networks:
    accepts: str = "comma-separated IP addresses or CIDR ranges (`127.0.0.1`, `10.0.0.0/8`, `::1`)"
    secret: bool = False

    def parse(self, raw: str) -> list[str]:
        return _comma_list(raw, _is_network)


def _is_network(item: str) -> bool:
    try:
        ipaddress.ip_network(item, strict=False)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class TimeZone:
    accepts: str = "an IANA time zone name such as `UTC` or `Europe/Paris`"
    secret: bool = False

    def parse(self, raw: str) -> str:
        value = raw.strip()
        try:
            zoneinfo.ZoneInfo(value)
        except (KeyError, ValueError, OSError):
            raise Bad() from None
        return value


@dataclass(frozen=True)
class Address:
    accepts: str = "an email address, optionally with a name: `Name <user@host>`"
    secret: bool = False

    def parse(self, raw: str) -> str:
        value = raw.strip()
        if "@" not in parseaddr(value)[1] or "\n" in value or "\r" in value:
            raise Bad()
        return value
