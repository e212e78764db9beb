"""A webhook receiver for the integration tests, verifying every delivery with the official
Standard Webhooks library (`standardwebhooks.Webhook(secret).verify(body, headers)`).

    python receiver.py --secret whsec_... [--secret whsec_...]

Listens on 127.0.0.1 on a free port and prints the port as its first line. Every POST outside
/_control is a delivery: it must verify with EACH configured secret (two secrets during a
rotation test prove both signatures were sent), else it is answered 401 and not recorded as a
delivery. The test steers it:

    POST /_control {"secrets": [...], "fail": N, "hang": bool, "redirect": bool}
        fail: the next N verified deliveries are answered 500
        hang: deliveries are held (no answer) until hang is switched off again
        redirect: deliveries are answered 302 to /followed (a client that follows is seen)
    GET /_received
        {"requests": [{"id", "verified", "status", "error"}], "deliveries": [{"id", "type",
        "body"}], "followed": N, "hanging": N}
"""

import argparse
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook

LOCK = threading.Lock()
STATE = {
    "secrets": [],
    "fail": 0,
    "hang": False,
    "redirect": False,
    "requests": [],
    "deliveries": [],
    "followed": 0,
    "hanging": 0,
}
UNHANG = threading.Event()
UNHANG.set()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, body=b"", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_GET(self):
        if self.path == "/_received":
            with LOCK:
                view = {k: STATE[k] for k in ("requests", "deliveries", "followed", "hanging")}
                data = json.dumps(view).encode()
            self.answer(200, data)
        elif self.path.startswith("/followed"):
            with LOCK:
                STATE["followed"] += 1
            self.answer(200, b"{}")
        else:
            self.answer(404, b"{}")

    def do_POST(self):
        data = self.body()
        if self.path == "/_control":
            change = json.loads(data or b"{}")
            with LOCK:
                for key in ("secrets", "fail", "hang", "redirect"):
                    if key in change:
                        STATE[key] = change[key]
                if STATE["hang"]:
                    UNHANG.clear()
                else:
                    UNHANG.set()
            self.answer(200, b"{}")
            return
        if self.path.startswith("/followed"):
            with LOCK:
                STATE["followed"] += 1
            self.answer(200, b"{}")
            return
        headers = {k: v for k, v in self.headers.items()}
        record = {
            "id": headers.get("webhook-id") or headers.get("Webhook-Id"),
            "verified": False,
            "status": None,
            "error": None,
        }
        with LOCK:
            secrets = list(STATE["secrets"])
        payload = None
        try:
            if not secrets:
                raise ValueError("the receiver has no secret")
            for secret in secrets:
                payload = Webhook(secret).verify(data, headers)
            record["verified"] = True
        except Exception as e:  # noqa: BLE001 - any failure is a refused delivery
            record["error"] = f"{type(e).__name__}: {e}"
        if not record["verified"]:
            record["status"] = 401
            with LOCK:
                STATE["requests"].append(record)
            self.answer(401, json.dumps({"error": record["error"]}).encode())
            return
        with LOCK:
            # Recorded on arrival: a request cut off while held still shows.
            STATE["requests"].append(record)
            hang = STATE["hang"]
            if hang:
                STATE["hanging"] += 1
        if hang:
            UNHANG.wait(timeout=120)
        with LOCK:
            if STATE["redirect"]:
                status = 302
            elif STATE["fail"] > 0:
                STATE["fail"] -= 1
                status = 500
            else:
                status = 200
            record["status"] = status
            if status == 200:
                STATE["deliveries"].append(
                    {"id": record["id"], "type": payload.get("webhookType"), "body": payload}
                )
        if status == 302:
            self.answer(302, b"{}", [("Location", "/followed")])
        elif status == 500:
            self.answer(500, b'{"error": "failing on purpose"}')
        else:
            self.answer(200, b'{"ok": true}')


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--secret", action="append", default=[])
    args = parser.parse_args()
    STATE["secrets"] = args.secret
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
