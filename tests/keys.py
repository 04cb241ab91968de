"""A strong secret key for the processes tests start (`serve` and `worker` refuse a weak one), fresh each run."""

import secrets

STRONG_KEY = secrets.token_urlsafe(50)
