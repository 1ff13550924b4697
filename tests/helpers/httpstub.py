#!/usr/bin/env python3
"""httpstub: a small HTTP/1.1 keep-alive server for the http unit test.

Binds 127.0.0.1 on a free port and writes the port number to --port-file
(atomically, so a reader never sees a partial number).  Standard library
only.  Routes:

  GET  /ok            200, a small JSON body
  GET  /big           200, 20 MiB body
  GET  /big-unsized   200, 20 MiB body without Content-Length (ends at close)
  GET  /slow[?ms=N]   answers after N ms (default 2000)
  GET  /status/NNN    status NNN with Retry-After: 3, retry-after-ms: 250,
                      X-Request-ID: req-1 (the first value padded with
                      spaces, to check trimming)
  GET  /interim       a 103 interim response with its own X-Request-Id and
                      Retry-After, then a 200 with X-Request-Id: final
  GET  /reset         closes the connection without a reply
  GET  /close-later   200 kept alive, then the server closes the idle
                      connection 100 ms later
  GET  /echo-headers  the request headers as the text body
  GET  /reflect       200; the request's Authorization comes back in
                      X-Echo-Auth and its api-key inside X-Echo-Key
                      ("v=KEY; seen")
  GET  /reset-body    headers announcing 1000 bytes, 10 of them, then RST
  POST /echo          the request body

With --exit-on-eof the server exits when its stdin reaches end of file, so
it never outlives a test that crashed.
"""

import argparse
import os
import socket
import socketserver
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

OK_BODY = b'{"ok":true,"value":42}'
BIG_SIZE = 20 * 1024 * 1024


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        pass

    def reply(self, status, body, ctype="application/json", extra=()):
        self.send_response(status)
        no_body = status < 200 or status in (204, 304)
        if not no_body:
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        if body and not no_body:
            self.wfile.write(body)

    def do_GET(self):
        url = urlsplit(self.path)
        path = url.path
        if path == "/ok":
            self.reply(200, OK_BODY)
        elif path == "/big":
            self.send_big()
        elif path == "/big-unsized":
            self.send_big(sized=False)
        elif path == "/slow":
            ms = int(parse_qs(url.query).get("ms", ["2000"])[0])
            time.sleep(ms / 1000.0)
            self.reply(200, b'{"slow":true}')
        elif path.startswith("/status/"):
            self.reply(int(path[len("/status/"):]), b'{"error":"as asked"}',
                       extra=[("Retry-After", "  3 "),
                              ("retry-after-ms", "250"),
                              ("X-Request-ID", "req-1")])
        elif path == "/interim":
            self.wfile.write(b"HTTP/1.1 103 Early Hints\r\n"
                             b"X-Request-Id: early\r\n"
                             b"Retry-After: 9\r\n\r\n"
                             b"HTTP/1.1 200 OK\r\n"
                             b"X-Request-Id: final\r\n"
                             b"Content-Type: application/json\r\n"
                             b"Content-Length: 2\r\n\r\n{}")
        elif path == "/reset":
            self.close_connection = True
        elif path == "/close-later":
            self.reply(200, OK_BODY)
            self.wfile.flush()
            time.sleep(0.1)
            self.close_connection = True
        elif path == "/reflect":
            self.reply(200, OK_BODY, extra=[
                ("X-Echo-Auth", self.headers.get("Authorization", "")),
                ("X-Echo-Key", "v=%s; seen" % self.headers.get("api-key", "")),
                ("X-Plain", "visible")])
        elif path == "/reset-body":
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b"x" * 10)
            self.wfile.flush()
            self.close_connection = True
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.connection.close()
        elif path == "/echo-headers":
            self.reply(200, str(self.headers).encode("latin-1"), "text/plain")
        else:
            self.reply(404, b'{"error":"not found"}')

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length) if length > 0 else b""
        if urlsplit(self.path).path == "/echo":
            self.reply(200, body, "application/octet-stream")
        else:
            self.reply(404, b'{"error":"not found"}')

    def send_big(self, sized=True):
        chunk = b"x" * 65536
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if sized:
            self.send_header("Content-Length", str(BIG_SIZE))
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        try:
            for _ in range(BIG_SIZE // len(chunk)):
                self.wfile.write(chunk)
        except OSError:
            # The client gave up at its body cap.
            self.close_connection = True


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def server_bind(self):
        # Skip HTTPServer's getfqdn(), which may wait on DNS.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def handle_error(self, request, client_address):
        # Clients time out and cut bodies on purpose; stay quiet.
        pass


def watch_stdin():
    while sys.stdin.buffer.read(4096):
        pass
    os._exit(0)


def main():
    ap = argparse.ArgumentParser(description="HTTP stub for unit tests")
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--exit-on-eof", action="store_true")
    args = ap.parse_args()

    server = Server(("127.0.0.1", 0), Handler)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.rename(tmp, args.port_file)
    if args.exit_on_eof:
        threading.Thread(target=watch_stdin, daemon=True).start()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
