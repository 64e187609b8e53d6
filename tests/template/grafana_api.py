"""A small local HTTP server speaking the part of Grafana's HTTP API that `make monitor` uses.

Grafana cannot run on these machines (not in Debian, PyPI or npm), so this is a test double of its
documented contract: ``POST /api/dashboards/db`` with ``Authorization: Bearer <token>`` and a body
``{"dashboard": {...}, "overwrite": true, ...}`` answers ``{id, uid, url, status, version, slug}``;
a wrong token gets 401. It records what it received so tests can check the dashboard sent.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class GrafanaApi:
    def __init__(self, token: str) -> None:
        self.token = token
        self.dashboards: list[dict] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output quiet
                pass

            def _answer(self, code: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                if self.headers.get("Authorization") != f"Bearer {api.token}":
                    return self._answer(401, {"message": "Unauthorized"})
                if self.path != "/api/dashboards/db":
                    return self._answer(404, {"message": "Not found"})
                dashboard = body.get("dashboard") or {}
                if not dashboard.get("title"):
                    return self._answer(400, {"message": "Dashboard title cannot be empty"})
                api.dashboards.append(body)
                uid = dashboard.get("uid") or "generated"
                slug = dashboard["title"].lower().replace(" ", "-").replace(":", "")
                self._answer(
                    200,
                    {"id": len(api.dashboards), "uid": uid, "url": f"/d/{uid}/{slug}", "status": "success",
                     "version": len(api.dashboards), "slug": slug},
                )  # fmt: skip

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> GrafanaApi:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
