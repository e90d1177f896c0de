"""Range requests on inspected responses (SecResponseBodyAccess On), against ModSecurity 2.9.7:
the held response must still reach Apache's byterange filter whole, so a Range request gets
206 with the same bytes as under ModSecurity (Parapet answered 200 with the whole body before:
the byterange filter only works on a body that arrives in one brigade with EOS), and a page a
phase-4 rule denies is denied whatever range is asked for.
"""
import http.client
import os
import re

from harness import MODSEC_SO, Apache, Skip

RULES = 'SecRule RESPONSE_BODY "@contains TOPSECRET" "id:400,phase:4,deny,status:403"\n'
FILES = {"htdocs/page.html": "<html>" + "abcdefghij" * 100 + "</html>",
         "htdocs/secret.html": "<html>" + "x" * 500 + "TOPSECRET" + "y" * 500 + "</html>"}
CASES = [("/page.html", "bytes=0-10"), ("/page.html", "bytes=-20"),
         ("/page.html", "bytes=0-,1-,2-,3-,4-,5-,6-,7-"), ("/page.html", "bytes=5-9,20-30"),
         ("/page.html", "bytes=5000-6000"), ("/secret.html", "bytes=0-10"),
         ("/secret.html", "bytes=1000-1100")]


def run(load_parapet):
    head = "SecRuleEngine On\nSecResponseBodyAccess On\n" if load_parapet else (
        "LoadModule security2_module %s\nSecRuleEngine On\nSecResponseBodyAccess On\n"
        "SecDataDir @ROOT@/data\n" % MODSEC_SO)
    srv = Apache(snippet=head + RULES, load_parapet=load_parapet, files=FILES,
                 name="ms2range-" + ("parapet" if load_parapet else "modsec"))
    srv.start()
    out = []
    try:
        for path, rng in CASES:
            c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
            c.request("GET", path, headers={"Range": rng})
            r = c.getresponse()
            body = r.read()
            ctype = r.getheader("Content-Type") or ""
            boundary = re.search(r"boundary=(\S+)", ctype)
            if boundary:  # random per response
                body = body.replace(boundary.group(1).encode(), b"B")
                ctype = ctype.replace(boundary.group(1), "B")
            out.append((r.status, r.getheader("Content-Range"), ctype,
                        body if r.status != 403 else b""))
            c.close()
    finally:
        srv.stop()
    return out


def test_range_on_inspected_responses_as_modsecurity():
    if not os.path.exists(MODSEC_SO):
        raise Skip("libapache2-mod-security2 is not installed")
    ms, pp = run(False), run(True)
    differences = ["%s %s: ModSecurity %r, Parapet %r" % (c[0], c[1], a[:3], b[:3])
                   for c, a, b in zip(CASES, ms, pp) if a != b]
    print("    %d range requests, statuses %s, %d differences"
          % (len(CASES), [m[0] for m in ms], len(differences)))
    if differences:
        raise AssertionError("\n  ".join(differences))
