"""The `paperboard` command (also `python -m paperboard`): Django's management commands under our name."""

from __future__ import annotations

import os
import sys

from django.core.management import execute_from_command_line

from paperboard.conf import SettingError

OURS = {
    "demo": "migrate, load the bundled demo data and serve it (what `make demo` runs)",
    "serve": "run the production web server (gunicorn)",
    "migrate": "create or upgrade the database",
    "import": "import papers from files (arXiv JSONL/Atom/OAI-PMH, HF daily-papers JSON), plain or gzipped",
    "ingest": "harvest papers live from a source (`ingest arxiv --category cs.LG --since 2025-01-01`)",
    "index": "build or update the search indexes (keyword and semantic); resumable",
    "worker": "run background tasks and send the email digests every minute (one process)",
    "digest": "`digest send`: send the email digests that are due, once (for cron)",
    "createsuperuser": "create an admin account",
    "shell": "a Python shell with the app loaded",
}


def usage() -> str:
    lines = ["usage: paperboard COMMAND [options]   (paperboard COMMAND --help for its options)", "", "commands:"]
    lines += [f"  {name:<16}{text}" for name, text in OURS.items()]
    lines += ["", "`paperboard help` lists every command, Django's own included. Settings: see docs/settings.md."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "paperboard.settings")
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help"):
        print(usage())
        return

    try:
        execute_from_command_line(["paperboard", *args])
    except SettingError as exc:  # a bad PAPERBOARD_* value: one line, no traceback
        sys.stderr.write(f"paperboard: {exc}\n")
        raise SystemExit(2) from None
