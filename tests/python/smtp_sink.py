"""A real SMTP server (aiosmtpd) for the notification tests.

Usage: smtp_sink.py OUT_DIR [WORKERS [raw]]. Listens on a free 127.0.0.1 port and
prints it on the first line of stdout. Every accepted mail becomes
OUT_DIR/NNNNNN.json (written to a temporary name, then renamed): the
envelope, every header and the decoded text/plain and text/html parts. RCPT
TO an address that starts with "refused" is answered 550, as a server
refusing a mailbox does.

WORKERS (default 1) processes accept on the one listening socket, for the
fan-out benchmark: one Python process parses ~180 mails/s on this machine,
below what the benchmark measures. Worker K > 0 names its files
NNNNNN-wK.json, so with one worker the names sort in arrival order. With
"raw", each mail is stored as received (NNNNNN.eml), unparsed: parsing
costs the sink about 4 ms of CPU a mail, more than Cairn spends sending it.
"""

import asyncio
import email
import email.policy
import json
import os
import signal
import socket
import sys

from aiosmtpd.smtp import SMTP


class Sink:
    def __init__(self, out, worker, raw):
        self.out = out
        self.raw = raw
        self.n = 0
        self.suffix = "-w%d" % worker if worker else ""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower().startswith("refused"):
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.raw:
            self.n += 1
            path = os.path.join(self.out, "%06d%s.eml" % (self.n, self.suffix))
            with open(path + ".tmp", "wb") as f:
                f.write(envelope.content)
            os.rename(path + ".tmp", path)
            return "250 Message accepted"
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        parts = {}
        for part in msg.walk():
            ct = part.get_content_type()
            if ct in ("text/plain", "text/html") and ct not in parts:
                parts[ct] = part.get_content()
        self.n += 1
        path = os.path.join(self.out, "%06d%s.json" % (self.n, self.suffix))
        with open(path + ".tmp", "w") as f:
            json.dump(
                {
                    "from": envelope.mail_from,
                    "to": envelope.rcpt_tos,
                    "headers": {k: str(v) for k, v in msg.items()},
                    "multipart": msg.get_content_type(),
                    "text": parts.get("text/plain", ""),
                    "html": parts.get("text/html", ""),
                },
                f,
            )
        os.rename(path + ".tmp", path)
        return "250 Message accepted"


async def serve(sock, out, worker, raw):
    loop = asyncio.get_running_loop()
    sink = Sink(out, worker, raw)
    server = await loop.create_server(lambda: SMTP(sink), sock=sock)
    await server.serve_forever()


def main():
    out = sys.argv[1]
    workers = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    raw = len(sys.argv) > 3 and sys.argv[3] == "raw"
    os.makedirs(out, exist_ok=True)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(512)
    sock.setblocking(False)
    worker = 0
    for k in range(1, workers):
        if os.fork() == 0:
            worker = k
            break
    if worker == 0:
        print(sock.getsockname()[1], flush=True)
    else:
        # A worker ends with the parent (the test kills the parent).
        try:
            import ctypes

            ctypes.CDLL("libc.so.6").prctl(1, signal.SIGKILL)
        except OSError:
            pass
    asyncio.run(serve(sock, out, worker, raw))


main()
