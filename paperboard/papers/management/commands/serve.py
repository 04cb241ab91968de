"""`paperboard serve`: the production web server (gunicorn, pre-forked workers), not runserver."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from paperboard import secretkey


def pending_migrations() -> list[str]:
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{m.app_label}.{m.name}" for m, _ in plan]


def run_gunicorn(host: str, port: int, workers: int, threads: int, access_log: bool) -> None:
    from gunicorn.app.base import BaseApplication  # lazy: POSIX only; the other commands run without it

    class Application(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("worker_class", "gthread")  # threads keep slow clients from blocking a worker
            self.cfg.set("threads", threads)
            self.cfg.set("keepalive", 5)
            self.cfg.set("timeout", 60)
            self.cfg.set("graceful_timeout", 20)
            self.cfg.set("proc_name", "paperboard")
            if access_log:
                self.cfg.set("accesslog", "-")

        def load(self):
            from paperboard.wsgi import application  # lazy: gunicorn loads the app in each worker

            return application

    Application().run()


class Command(BaseCommand):
    help = ("Serve the site with gunicorn (pre-forked worker processes). Refuses to start on an unmigrated database "
            "or with an unsafe PAPERBOARD_SECRET_KEY (unless PAPERBOARD_DEBUG is on).")

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
        parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
        parser.add_argument(
            "--workers", type=int, default=settings.PAPERBOARD_SERVE_WORKERS,
            help="worker processes (default PAPERBOARD_SERVE_WORKERS, 2)",
        )
        parser.add_argument("--threads", type=int, default=4, help="threads per worker (default 4)")
        parser.add_argument("--access-log", action="store_true", help="log each request to stdout")

    def handle(self, *args, **opts):
        secretkey.refuse_to_start()
        pending = pending_migrations()
        if pending:
            raise CommandError(f"the database needs migrating ({len(pending)} pending): run `paperboard migrate`")
        connection.close()  # never share a connection with forked workers
        self.stdout.write(f"Paperboard on http://{opts['host']}:{opts['port']} ({opts['workers']} workers)")
        run_gunicorn(opts["host"], opts["port"], opts["workers"], opts["threads"], opts["access_log"])
