"""Serves the greeting the build wrote, escaped with a dependency uv installed."""

import os
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

import markupsafe

GREETING = open(os.path.join(sys.prefix, "greeting.txt")).read()


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path != "/":
            self.send_error(404)
            return
        body = f"{markupsafe.escape(GREETING)} (markupsafe {markupsafe.__version__})".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


HTTPServer(("0.0.0.0", int(os.environ.get("PORT", "8080"))), Handler).serve_forever()
