"""The WSGI application (`paperboard serve`, or gunicorn pointed at `paperboard.wsgi:application`).

A bad PAPERBOARD_* value, or an unsafe secret key outside debug mode, stops the process with one line on
stderr and exit status 4, which gunicorn's master reads as "the app failed to load" and stops on, instead
of starting worker after worker."""

import os
import sys

from django.core.wsgi import get_wsgi_application

from paperboard import secretkey
from paperboard.conf import SettingError

APP_LOAD_ERROR = 4  # gunicorn.arbiter.Arbiter.APP_LOAD_ERROR

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "paperboard.settings")
try:
    application = get_wsgi_application()
except SettingError as exc:
    sys.stderr.write(f"paperboard: {exc}\n")
    sys.exit(APP_LOAD_ERROR)

from django.conf import settings  # noqa: E402 - configured above

if refusal := secretkey.refusal(settings.SECRET_KEY, settings.DEBUG):
    sys.stderr.write(f"paperboard: {refusal}\n")
    sys.exit(APP_LOAD_ERROR)
