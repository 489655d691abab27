"""A real SMTP server (aiosmtpd) for the notification tests.

Usage: smtp_sink.py OUT_DIR. Listens on a free 127.0.0.1 port and prints it
on the first line of stdout. Every accepted mail becomes OUT_DIR/NNNNNN.json
(written to a temporary name, then renamed): the envelope, every header and
the decoded text/plain and text/html parts. RCPT TO an address that starts
with "refused" is answered 550, as a server refusing a mailbox does.
"""

import asyncio
import email
import email.policy
import json
import os
import sys

from aiosmtpd.smtp import SMTP


class Sink:
    def __init__(self, out):
        self.out = out
        self.n = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower().startswith("refused"):
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        parts = {}
        for part in msg.walk():
            ct = part.get_content_type()
            if ct in ("text/plain", "text/html") and ct not in parts:
                parts[ct] = part.get_content()
        self.n += 1
        path = os.path.join(self.out, "%06d.json" % self.n)
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


async def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    sink = Sink(out)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(sink), "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()


asyncio.run(main())
