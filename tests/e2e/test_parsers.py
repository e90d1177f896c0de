"""Body parsing as the application reads it (docs/body-parsing.md), through a real Apache.

The attack run (../shared/reviews/attack-run.md) found bodies that Parapet and the application
read differently: a ',' after the media type sent forms and uploads to the raw processor (D2,
D3). Each case here is the attack run's exact shape, sent to the echo CGI; the control with
the well-formed shape is checked next to it, and real clients' bodies (curl -F, Python
requests, a browser's quoted boundary) must still reach the application byte for byte.
"""
import hashlib
import os

from harness import Apache, Group

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
CGI = "/cgi-bin/echo.py"
PAD = b"x" * 140000  # past SecUploadInMemoryLimit (128 KiB): the body spills; POST_PAYLOAD ends there

# Logs every file it is asked about, rejects one that contains BADFILE.
APPROVE = """\
#!/bin/sh
echo "$1" >> "%(root)s/data/approve.log"
if grep -q BADFILE "$1"; then echo "0 bad file"; else echo "1 ok"; fi
"""

SNIPPET = """
<IfModule mod_security.c>
    SecFilterEngine On
    SecFilterScanPOST On
    SecFilterDefaultAction "deny,log,status:403"
    SecUploadDir "@ROOT@/data"
    SecUploadApproveScript "@ROOT@/approve.sh"
    SecFilter "<script"
    SecFilterSelective ARGS "union[[:space:]]+select" "id:1001"
    SecFilterSelective ARGS_NAMES "evilname" "id:1002"
    SecFilterSelective COOKIES_VALUES "union[[:space:]]+select" "id:1003"
    SecFilterSelective POST_PAYLOAD "etc/passwd" "id:1006"
    SecFilterSelective FILES_NAMES "\\.phtml$" "id:1007"
    SecFilterSelective ARG_num "!^[0-9]*$" "id:1011"
</IfModule>
"""


class ParserApache(Apache):
    def prepare(self):
        conf = super().prepare()
        script = self.root / "approve.sh"
        script.write_text(APPROVE % {"root": self.root})
        os.chmod(script, 0o755)
        return conf


class ParserGroup(Group):
    def create(self):
        return ParserApache(self.snippet, name=self.name)


PARSERS = ParserGroup("parsers", snippet=SNIPPET)


def expect(cond, message):
    if not cond:
        raise AssertionError(message)


def expect_status(resp, status, what):
    expect(resp.status == status, "%s: expected %d, got %d: %r" % (what, status, resp.status,
                                                                   resp.body[:300]))


def approvals(srv):
    path = srv.path("data/approve.log")
    return path.read_text().count("\n") if path.exists() else 0


def multipart(boundary, *parts):
    """parts: (header lines, content bytes)."""
    out = b""
    for headers, content in parts:
        out += b"--" + boundary + b"\r\n" + headers + b"\r\n\r\n" + content + b"\r\n"
    return out + b"--" + boundary + b"--\r\n"


def post(srv, body, content_type, method="POST"):
    return srv.request(method, CGI, body=body, headers={"Content-Type": content_type})


def expect_reached(resp, body, what):
    expect_status(resp, 200, what)
    got = resp.json()
    expect(got["body_sha256"] == hashlib.sha256(body).hexdigest(), "%s: body changed" % what)


# ---- media type: D2, D3 -----------------------------------------------------------------------

BADFILE = multipart(b"B", (b'Content-Disposition: form-data; name="f"; filename="eicar.com"',
                           b"BADFILE contents"))
PHTML = multipart(b"B", (b'Content-Disposition: form-data; name="f"; filename="shell.phtml"',
                         b"<?php echo 1; ?>"))
PADDED_FIELD = multipart(b"B", (b'Content-Disposition: form-data; name="a"', PAD),
                         (b'Content-Disposition: form-data; name="id"', b"1 union select 2"))


@PARSERS.test
def test_d2_multipart_comma_upload_is_not_passed_unscanned(srv):
    before = approvals(srv)
    expect_status(post(srv, BADFILE, "multipart/form-data; boundary=B"), 403, "';' control")
    expect(approvals(srv) == before + 1, "the approval script did not run for the control")
    resp = post(srv, BADFILE, "multipart/form-data,boundary=B")
    expect_status(resp, 400, "D2: comma before the boundary, bad file")
    log = srv.error_log()
    expect("ambiguous body" in log, "no log line says the body is ambiguous:\n%s" % log[-2000:])


@PARSERS.test
def test_d2_multipart_comma_file_name_rule(srv):
    expect_status(post(srv, PHTML, "multipart/form-data; boundary=B"), 403, "';' control")
    expect_status(post(srv, PHTML, "multipart/form-data,boundary=B"), 400, "D2 .phtml")


@PARSERS.test
def test_d2_multipart_comma_space_field_after_padding(srv):
    expect_status(post(srv, PADDED_FIELD, "multipart/form-data; boundary=B"), 403, "control")
    expect_status(post(srv, PADDED_FIELD, "multipart/form-data, boundary=B"), 400,
                  "D2: field after 140 KB")


@PARSERS.test
def test_d3_urlencoded_comma_is_parsed_as_a_form(srv):
    body = b"a=" + PAD + b"&id=1+union+select+2"
    expect_status(post(srv, body, "application/x-www-form-urlencoded"), 403, "control")
    expect_status(post(srv, body, "application/x-www-form-urlencoded,x"), 403,
                  "D3: ',x' after the media type, payload after 140 KB")
    expect_status(post(srv, b"evilname=1", "application/x-www-form-urlencoded,x"), 403,
                  "D3: ARGS_NAMES with ',x'")
    expect_status(post(srv, b"evilname=1", "application/x-www-form-urlencoded,"), 403,
                  "D3: ARGS_NAMES with a trailing ','")


# ---- real clients still pass ------------------------------------------------------------------

def client_bodies():
    """(what, Content-Type, body) as real clients write them."""
    curl_b = b"------------------------d74496d66958873e"
    requests_b = b"8a8c2f5a9b1e4d3c9f0e7d6c5b4a3928"
    webkit_b = b"----WebKitFormBoundary7MA4YWxkTrZu0gW"
    file_part = os.urandom(4096).replace(b"\r\n--", b"\r\n==")
    return [
        ("curl -F", "multipart/form-data; boundary=" + curl_b.decode(),
         multipart(curl_b, (b'Content-Disposition: form-data; name="note"', b"hello"),
                   (b'Content-Disposition: form-data; name="doc"; filename="a.bin"\r\n'
                    b"Content-Type: application/octet-stream", file_part))),
        ("python requests", "multipart/form-data; boundary=" + requests_b.decode(),
         multipart(requests_b, (b'Content-Disposition: form-data; name="note"', b"hello"),
                   (b'Content-Disposition: form-data; name="doc"; filename="report.pdf"',
                    file_part))),
        ("browser, quoted boundary", 'multipart/form-data; boundary="%s"' % webkit_b.decode(),
         multipart(webkit_b, (b'Content-Disposition: form-data; name="note"', b"hello"),
                   (b'Content-Disposition: form-data; name="doc"; filename="photo.jpg"\r\n'
                    b"Content-Type: image/jpeg", file_part))),
        ("urlencoded with charset", "application/x-www-form-urlencoded; charset=UTF-8",
         b"q=hello+world&n=42"),
    ]


@PARSERS.test
def test_real_clients_pass(srv):
    for what, ctype, body in client_bodies():
        expect_reached(post(srv, body, ctype), body, what)


# ---- part headers: D1 -------------------------------------------------------------------------

@PARSERS.test
def test_d1_filename_star_alone_is_inspected_as_field_and_file(srv):
    # PHP reads this part as $_POST['id'], Go, Django and ASP.NET as a file: Parapet does both.
    body = (b"--B\r\nContent-Disposition: form-data; name=\"id\"; filename*=UTF-8''x\r\n\r\n"
            b"1 union select 2\r\n--B--\r\n")
    control = body.replace(b"; filename*=UTF-8''x", b"")
    expect_status(post(srv, control, "multipart/form-data; boundary=B"), 403, "field control")
    expect_status(post(srv, body, "multipart/form-data; boundary=B"), 403, "D1: filename* only")
    before = approvals(srv)
    as_file = body.replace(b"1 union select 2", b"BADFILE")
    expect_status(post(srv, as_file, "multipart/form-data; boundary=B"), 403,
                  "D1 part rejected by the approval script")
    expect(approvals(srv) == before + 1, "the filename* part was not approved as a file")
    clean = body.replace(b"1 union select 2", b"plain text")
    expect_reached(post(srv, clean, "multipart/form-data; boundary=B"), clean,
                   "benign filename* part (urllib3 < 1.25)")
    big = body.replace(b"1 union select 2", b"y" * (1024 * 1024 + 1))
    expect_status(post(srv, big, "multipart/form-data; boundary=B"), 400,
                  "filename* part too big to inspect as a field")
    both = body.replace(b"filename*=UTF-8''x", b"filename=\"x\"; filename*=UTF-8''x")
    both = both.replace(b"1 union select 2", b"plain file")
    expect_reached(post(srv, both, "multipart/form-data; boundary=B"), both,
                   "filename and filename* that agree")


# ---- names: D4 --------------------------------------------------------------------------------

@PARSERS.test
def test_d4_nul_in_argument_name(srv):
    expect_status(srv.get(CGI + "?num=1+or+1%3D1"), 403, "ARG_num control")
    expect_status(srv.get(CGI + "?num%00x=1+or+1%3D1"), 400, "D4: num%00x in the query")
    expect_status(post(srv, b"num%00x=1+or+1%3D1", FORM["Content-Type"]), 400,
                  "D4: num%00x in an urlencoded body")
    expect_status(srv.get(CGI, headers={"Cookie": "num%00x=1"}), 400, "D4: cookie name")
    expect_status(srv.get(CGI + "?num=12&q=a%00b"), 200, "NUL in a value")


# ---- PUT: D11 ---------------------------------------------------------------------------------

@PARSERS.test
def test_d11_put_bodies_reach_the_rules(srv):
    # curl -X PUT -H 'Content-Type: application/x-www-form-urlencoded' --data 'id=1+union+select+2'
    expect_status(post(srv, b"id=1+union+select+2", FORM["Content-Type"], method="PUT"), 403,
                  "D11: urlencoded PUT")
    expect_status(post(srv, PADDED_FIELD, "multipart/form-data; boundary=B", method="PUT"), 403,
                  "D11: multipart PUT")
    expect_status(post(srv, b"see /etc/passwd", "text/plain", method="PUT"), 403,
                  "D11: text/plain PUT, POST_PAYLOAD rule")
    before = approvals(srv)
    body = b"q=hello+world"
    expect_reached(post(srv, body, FORM["Content-Type"], method="PUT"), body, "benign PUT form")
    expect(approvals(srv) == before + 1, "the PUT body was not also approved as a file")
    expect_status(post(srv, b"a=BADFILE", FORM["Content-Type"], method="PUT"), 403,
                  "PUT form rejected by the approval script")


# ---- part headers that change nothing an application reads (issue 17 item 2) -----------------

JAXRS_DATE = b'"Wed, 12 Feb 1997 16:29:51 GMT"'


@PARSERS.test
def test_rfc2183_parameters_do_not_make_a_body_ambiguous(srv):
    # Jersey's FormDataContentDisposition: filename, the RFC 2183 dates, size, then name.
    disposition = (b'Content-Disposition: form-data; filename="report.txt"; creation-date=' +
                   JAXRS_DATE + b"; modification-date=" + JAXRS_DATE + b"; read-date=" +
                   JAXRS_DATE + b'; size=11; name="file"')
    body = multipart(b"Boundary_1_1234567_1700000000000",
                     (b'Content-Disposition: form-data; name="note"', b"hello"),
                     (disposition + b"\r\nContent-Type: text/plain", b"hello world"))
    ctype = "multipart/form-data; boundary=Boundary_1_1234567_1700000000000"
    before = approvals(srv)
    expect_reached(post(srv, body, ctype), body, "JAX-RS part with RFC 2183 parameters")
    expect(approvals(srv) == before + 1, "the JAX-RS file part was not approved as a file")
    bad = body.replace(b"hello world", b"BADFILE")
    expect_status(post(srv, bad, ctype), 403, "JAX-RS part still goes to the approval script")
    # A parameter some parser reads a name from stays strict.
    star = multipart(b"B", (b"Content-Disposition: form-data; name=\"a\"; name*=utf-8''id",
                            b"1 union select 2"))
    expect_status(post(srv, star, "multipart/form-data; boundary=B"), 400, "name* parameter")
    # PHP reads on from a ' inside an unquoted value: the filename after it is hidden from PHP,
    # which reads the part as $_POST['id'] while other parsers see a file.
    hidden = multipart(b"B", (b"Content-Disposition: form-data; name=\"id\"; x=q'; "
                              b"filename=\"a.txt\"", b"1 union select 2"))
    expect_status(post(srv, hidden, "multipart/form-data; boundary=B"), 400,
                  "filename hidden from PHP by a single quote")
