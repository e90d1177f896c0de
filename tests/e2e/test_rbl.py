"""@rbl against a DNS server the test runs on 127.0.0.1 (no other network), through
`parapet eval`: a listed address (reversed under the zone), a listed host name, a name the
server does not know (NXDOMAIN), a resolver that never answers (bounded wait, fail open, one
log line), SERVFAIL, and nothing listening. Not differential: ModSecurity 2.9.7 asks the
system resolver (/etc/resolv.conf), which a test on a shared machine must not change."""
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

PARAPET = Path(__file__).resolve().parents[2] / "build" / "parapet"


def expect(cond, message):
    if not cond:
        raise AssertionError(message)


def qname(packet):
    labels, at = [], 12
    while packet[at]:
        n = packet[at]
        labels.append(packet[at + 1:at + 1 + n].decode("ascii", "replace"))
        at += 1 + n
    return ".".join(labels).lower(), at + 5


class Resolver:
    """Answers A questions: listed names get 127.0.0.2, zone fail.test SERVFAIL, zone
    slow.test nothing at all, everything else NXDOMAIN. Records every name asked."""
    LISTED = {"2.0.0.127.bl.test", "evil.example.bl.test", "key1.9.8.7.6.dnsbl.httpbl.org"}

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.asked = []
        self.stop = False
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while not self.stop:
            try:
                packet, peer = self.sock.recvfrom(512)
            except socket.timeout:
                continue
            name, end = qname(packet)
            self.asked.append(name)
            if name.endswith("slow.test"):
                continue
            rcode = 2 if name.endswith("fail.test") else 0 if name in self.LISTED else 3
            head = packet[:2] + bytes([0x81, 0x80 | rcode]) + b"\x00\x01" + \
                (b"\x00\x01" if rcode == 0 else b"\x00\x00") + b"\x00\x00\x00\x00"
            answer = b""
            if rcode == 0:
                answer = b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x7f\x00\x00\x02"
            self.sock.sendto(head + packet[12:end] + answer, peer)

    def close(self):
        self.stop = True
        self.thread.join()
        self.sock.close()


RULES = """SecRuleEngine On
SecRblResolver 127.0.0.1:%d
SecRblTimeout 300
SecHttpBlKey key1
SecRule ARGS:ip "@rbl bl.test" "id:1,phase:1,deny,status:403,log"
SecRule ARGS:slow "@rbl slow.test" "id:2,phase:1,deny,status:403,log"
SecRule ARGS:fail "@rbl fail.test" "id:3,phase:1,deny,status:403,log"
SecRule ARGS:hb "@rbl dnsbl.httpbl.org" "id:4,phase:1,deny,status:403,log"
"""


def evaluate(d, conf_text, query):
    conf = Path(d) / "rbl.conf"
    conf.write_text(conf_text)
    req = Path(d) / "r.http"
    req.write_text("GET /?%s HTTP/1.1\r\nHost: x\r\n\r\n" % query)
    start = time.monotonic()
    p = subprocess.run([str(PARAPET), "eval", "-c", str(conf), str(req)], capture_output=True,
                       text=True, timeout=30)
    took = time.monotonic() - start
    expect(p.returncode in (0, 1), "eval %s: rc %d %s" % (query, p.returncode, p.stderr))
    return ('"status":403' in p.stdout), p.stderr, took


def test_rbl_lookups_against_a_local_resolver():
    srv = Resolver()
    try:
        with tempfile.TemporaryDirectory(prefix="parapet-rbl-") as d:
            conf = RULES % srv.port
            for query, blocked, asked in (
                    ("ip=127.0.0.2", True, "2.0.0.127.bl.test"),
                    ("ip=127.0.0.3", False, "3.0.0.127.bl.test"),
                    ("ip=evil.example", True, "evil.example.bl.test"),
                    ("ip=good.example", False, "good.example.bl.test"),
                    ("hb=6.7.8.9", True, "key1.9.8.7.6.dnsbl.httpbl.org")):
                got, err, _ = evaluate(d, conf, query)
                expect(got == blocked, "%s: blocked %s, expected %s (%s)" % (query, got, blocked, err))
                expect(srv.asked and srv.asked[-1] == asked,
                       "%s: the resolver was asked %s, expected %s" % (query, srv.asked[-1:], asked))
                expect("fail open" not in err, "%s: %s" % (query, err))
            # A resolver that never answers: the wait is bounded, the request passes (fail
            # open) and one line says why.
            got, err, took = evaluate(d, conf, "slow=127.0.0.2")
            expect(not got and took < 3, "slow resolver: blocked %s after %.1f s" % (got, took))
            expect(err.count("fail open") == 1 and "no answer in time" in err
                   and "2.0.0.127.slow.test" in err, "slow resolver log: %r" % err)
            got, err, _ = evaluate(d, conf, "fail=127.0.0.2")
            expect(not got and err.count("fail open") == 1 and "SERVFAIL" in err,
                   "SERVFAIL: blocked %s, log %r" % (got, err))
    finally:
        srv.close()
    # Nothing listens on the resolver's port any more.
    with tempfile.TemporaryDirectory(prefix="parapet-rbl-") as d:
        got, err, took = evaluate(d, RULES % srv.port, "ip=127.0.0.2")
        expect(not got and err.count("fail open") == 1 and took < 3,
               "no resolver: blocked %s, %.1f s, log %r" % (got, took, err))


def test_rbl_configuration_errors():
    with tempfile.TemporaryDirectory(prefix="parapet-rbl-") as d:
        for line, reason in (("SecRblResolver dns.example", "not an IP address"),
                             ("SecRblResolver 127.0.0.1:99999", "not an IP address"),
                             ("SecRblTimeout 0", "is not a number from 1 to 10000"),
                             ('SecRule ARGS "@rbl" "id:1,phase:1,deny"', "needs a zone")):
            conf = Path(d) / "c.conf"
            conf.write_text("SecRuleEngine On\n%s\n" % line)
            p = subprocess.run([str(PARAPET), "check", str(conf)], capture_output=True,
                               text=True, timeout=30)
            out = p.stdout + p.stderr
            expect(p.returncode != 0 and "%s:2:" % conf in out and reason in out,
                   "%s: rc %d %s" % (line, p.returncode, out))
