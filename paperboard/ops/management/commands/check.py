"""`paperboard check`: Django's system checks, then this instance's configuration and services.

Each line says OK, WARN or ERROR with a reason; the exit status is 1 when any ERROR was found (and
with --fail-on-warning, any WARN), so it fits a deploy script or a container's start command."""

from __future__ import annotations

from django.conf import settings
from django.core.management.commands.check import Command as DjangoCheck

from paperboard import secretkey
from paperboard.jobs import health as jobs_health
from paperboard.ops import probes

def configuration() -> list[tuple[str, str, str]]:
    """(level, what, detail) for the settings an admin must get right."""
    out = []
    weakness = secretkey.weakness(settings.SECRET_KEY)
    out.append(("ERROR", "secret key", weakness) if weakness else ("OK", "secret key", "set"))
    if settings.DEBUG:
        out.append(("ERROR", "debug", "PAPERBOARD_DEBUG is on: error pages show settings and code to anyone"))
    else:
        out.append(("OK", "debug", "off"))
    if settings.BASE_URL.startswith("http://localhost") or settings.BASE_URL.startswith("http://127."):
        out.append(("WARN", "base URL", f"PAPERBOARD_BASE_URL is {settings.BASE_URL}: links in mail point there"))
    else:
        out.append(("OK", "base URL", settings.BASE_URL))
    return out + jobs_health.configuration()


def services() -> list[tuple[str, str, str]]:
    out = []
    for name, result in (("database", probes.database()), ("data dir", probes.data_dir()), ("cache", probes.cache())):
        out.append(("OK" if result[0] else "ERROR", name, result[1]))
    if out[0][0] == "OK":
        ok, detail = probes.migrations()
        out.append(("OK" if ok else "ERROR", "migrations", detail))
        if ok:
            out += jobs_health.workers()
    mail = probes.smtp()
    if mail is None:
        out.append(("WARN", "mail", f"no PAPERBOARD_SMTP_URL: mail is written to {settings.EMAIL_FILE_PATH}"))
    else:
        out.append(("OK" if mail[0] else "ERROR", "mail", mail[1]))
    return out


class Command(DjangoCheck):
    help = ("Django's system checks, then Paperboard's configuration and services (database, cache, mail, data dir, "
            "scheduled jobs and workers).")

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--fail-on-warning", action="store_true", help="exit 1 on warnings too")

    def handle(self, *app_labels, **options):
        super().handle(*app_labels, **options)
        results = configuration() + services()
        for level, what, detail in results:
            self.stdout.write(f"{level:<5} {what}: {detail}")
        errors = sum(1 for level, _, _ in results if level == "ERROR")
        warnings = sum(1 for level, _, _ in results if level == "WARN")
        self.stdout.write(f"{errors} error(s), {warnings} warning(s)")
        if errors or (warnings and options["fail_on_warning"]):
            raise SystemExit(1)
