"""A real HTTP server on 127.0.0.1 (a free port) for the tests' stand-ins of remote APIs (arXiv, Hugging Face).

`StubServer(answer, path)`: each GET is recorded (`requests`: path, query parameters, User-Agent) and answered
with `answer(params) -> (status, content type, body)`; an `answer` that returns None sends nothing (the
client sees a dropped connection). `with StubServer(...) as s:` starts and stops it.
"""

from __future__ import annotations

import threading
import urllib.parse
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Answer = Callable[[dict], "tuple[int, str, bytes] | None"]


class StubServer:
    def __init__(self, answer: Answer, path: str = "/") -> None:
        self.requests: list[dict] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urllib.parse.urlsplit(self.path)
                params = {k: v[0] for k, v in urllib.parse.parse_qs(url.query).items()}
                stub.requests.append({"path": url.path, "params": params, "user_agent": self.headers["User-Agent"]})
                answered = answer(params)
                if answered is None:
                    return
                status, content_type, body = answered
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}{path}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    def start(self) -> StubServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> StubServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
