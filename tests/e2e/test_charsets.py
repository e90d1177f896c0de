"""Declared charsets through a real Apache (issue 17, src/engine/body/charset.h).

A multipart field with a part `charset=`, a form with `_charset_`, or an urlencoded body with
`charset=` reaches Java, .NET and Jetty applications decoded. Each attack below is plain
`<script>` text once decoded, sent in a charset whose bytes match nothing as sent (UTF-16LE,
UTF-16BE with a BOM, UTF-7, IBM037 EBCDIC): an ARGS rule must catch it. Real clients' bodies
that declare charsets (browsers' `_charset_`, Java's and .NET's part headers, a legacy-page
form in windows-1252) must reach the application byte for byte.
"""
import hashlib

from harness import Apache, Group

CGI = "/cgi-bin/echo.py"
ATTACK = "<script>alert(1)</script>"

SNIPPET = """
<IfModule mod_security.c>
    SecFilterEngine On
    SecFilterScanPOST On
    SecFilterDefaultAction "deny,log,status:403"
    SecFilterDebugLevel 4
    SecFilterDebugLog "@ROOT@/logs/debug.log"
    SecUploadDir "@ROOT@/data"
    SecFilterSelective ARGS "<script" "id:3001"
    SecFilterSelective ARGS_NAMES "evilname" "id:3002"
</IfModule>
"""

CHARSETS = Group("charsets", snippet=SNIPPET)


def expect(cond, message):
    if not cond:
        raise AssertionError(message)


def expect_status(resp, status, what):
    expect(resp.status == status, "%s: expected %d, got %d: %r" % (what, status, resp.status,
                                                                   resp.body[:300]))


def multipart(boundary, *parts):
    """parts: (header lines, content bytes)."""
    out = b""
    for headers, content in parts:
        out += b"--" + boundary + b"\r\n" + headers + b"\r\n\r\n" + content + b"\r\n"
    return out + b"--" + boundary + b"--\r\n"


def post(srv, body, content_type):
    return srv.request("POST", CGI, body=body, headers={"Content-Type": content_type})


def expect_reached(resp, body, what):
    expect_status(resp, 200, what)
    got = resp.json()
    expect(got["body_sha256"] == hashlib.sha256(body).hexdigest(), "%s: body changed" % what)


def field(name, charset, value):
    headers = b'Content-Disposition: form-data; name="' + name + b'"'
    if charset:
        headers += b"\r\nContent-Type: text/plain; charset=" + charset.encode()
    return (headers, value)


ENCODED = [
    ("UTF-16LE", ATTACK.encode("utf-16-le")),
    ("UTF-16BE", ATTACK.encode("utf-16-be")),
    ("UTF-16", ATTACK.encode("utf-16")),  # with a BOM
    # Python's encoder writes '<' directly; Java's and glibc's decoders read the escaped form
    ("UTF-7", b"+ADw-script+AD4-alert(1)+ADw-/script+AD4-"),
    ("IBM037", ATTACK.encode("cp037")),
    ("cp1026", ATTACK.encode("cp1026")),
]


@CHARSETS.test
def test_part_charset_attacks_are_caught(srv):
    for cs, data in ENCODED:
        expect(b"<script" not in data, "the vector for %s is not encoded" % cs)
        body = multipart(b"B", field(b"comment", cs, data))
        expect_status(post(srv, body, "multipart/form-data; boundary=B"), 403,
                      "part charset=%s" % cs)


@CHARSETS.test
def test_unmarked_utf16_is_read_both_ways(srv):
    # Java reads "charset=UTF-16" without a BOM big-endian, .NET little-endian.
    for data in (ATTACK.encode("utf-16-be"), ATTACK.encode("utf-16-le")):
        body = multipart(b"B", field(b"comment", "UTF-16", data))
        expect_status(post(srv, body, "multipart/form-data; boundary=B"), 403,
                      "unmarked UTF-16 %r" % data[:4])


@CHARSETS.test
def test_form_charset_attacks_are_caught(srv):
    for cs, data in ENCODED:
        if cs.startswith("UTF-16"):
            continue  # names are ASCII: not UTF-16 text; see the refusal test
        body = multipart(b"B", field(b"comment", None, data),
                         field(b"_charset_", None, cs.encode()))
        expect_status(post(srv, body, "multipart/form-data; boundary=B"), 403,
                      "_charset_=%s after the field" % cs)
    # names are decoded with _charset_ too
    body = multipart(b"B", field(b"_charset_", None, b"IBM037"),
                     field("evilname".encode("cp037"), None, "1".encode("cp037")))
    expect_status(post(srv, body, "multipart/form-data; boundary=B"), 403, "IBM037 name")


@CHARSETS.test
def test_request_charset_attacks_are_caught(srv):
    # Tomcat decodes parts without a charset (and names) with the request encoding, which it
    # takes from the charset parameter of the multipart Content-Type itself.
    for cs, data in ENCODED:
        if cs.startswith("UTF-16"):
            continue
        body = multipart(b"B", field(b"comment", None, data))
        expect_status(post(srv, body, "multipart/form-data; boundary=B; charset=" + cs), 403,
                      "multipart Content-Type charset=%s" % cs)
    body = multipart(b"B", field("evilname".encode("cp037"), "UTF-8", b"1"))
    expect_status(post(srv, body, "multipart/form-data; boundary=B; charset=IBM037"), 403,
                  "IBM037 name, request charset, part charset UTF-8")


@CHARSETS.test
def test_urlencoded_charset_attacks_are_caught(srv):
    from urllib.parse import quote_from_bytes
    pycodec = {"UTF-16LE": "utf-16-le", "UTF-16BE": "utf-16-be", "UTF-16": "utf-16-be",
               "UTF-7": "utf-7", "IBM037": "cp037", "cp1026": "cp1026"}
    for cs, data in ENCODED:
        # the name is in the body's charset too, as a servlet decodes it
        name = "q".encode(pycodec[cs])
        body = (quote_from_bytes(name) + "=" + quote_from_bytes(data)).encode()
        resp = post(srv, body, "application/x-www-form-urlencoded; charset=" + cs)
        if cs.startswith("UTF-16"):
            # "q" in UTF-16 holds a NUL: PHP ends the name there, so the NUL-in-name check
            # refuses the body before any charset question (attack run D4)
            expect_status(resp, 400, "urlencoded charset=%s" % cs)
            expect("NUL byte in an argument name" in srv.error_log().splitlines()[-1],
                   "UTF-16 urlencoded refused for another reason")
        else:
            expect_status(resp, 403, "urlencoded charset=%s" % cs)


@CHARSETS.test
def test_undecodable_text_is_refused(srv):
    cases = [
        ("unknown charset", field(b"c", "x-unknown-9", b"hello")),
        ("odd byte count in UTF-16LE", field(b"c", "UTF-16LE", b"<\x00s")),
        ("invalid Shift_JIS", field(b"c", "Shift_JIS", b"\x81\x20x")),
    ]
    for what, part in cases:
        resp = post(srv, multipart(b"B", part), "multipart/form-data; boundary=B")
        expect_status(resp, 400, what)
    log = srv.error_log()
    expect("Request body charset" in log, "no log line names the charset:\n%s" % log[-2000:])


def client_bodies():
    """(what, Content-Type, body) as real clients that declare charsets write them."""
    webkit = b"----WebKitFormBoundaryq3c8Ft2aJx0LzV9m"
    firefox = b"---------------------------29036405413847394462734451982"
    jersey = b"Boundary_1_1739273412_1765079912345"
    okhttp = b"3f6a1c0e-8e5b-4f4c-b1f7-6a2d9e0c5b71"
    dotnet = b"a1f0c7de-3b2e-4f55-8d91-0e6b7c4a2f13"
    jpeg = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8
    return [
        ("Chrome, _charset_ and UTF-8 text", "multipart/form-data; boundary=" + webkit.decode(),
         multipart(webkit, field(b"_charset_", None, b"UTF-8"),
                   field(b"q", None, "grüße, 東京".encode()),
                   (b'Content-Disposition: form-data; name="pic"; filename="p.jpg"\r\n'
                    b"Content-Type: image/jpeg", jpeg))),
        ("Firefox, legacy page in windows-1252", "multipart/form-data; boundary=" +
         firefox.decode(),
         multipart(firefox, field(b"_charset_", None, b"windows-1252"),
                   field(b"q", None, "café".encode("cp1252")))),
        ("browser, Shift_JIS page", "multipart/form-data; boundary=" + webkit.decode(),
         multipart(webkit, field(b"_charset_", None, b"Shift_JIS"),
                   field(b"q", None, "東京".encode("shift_jis")))),
        ("Jersey (JAX-RS) FormDataMultiPart", "multipart/form-data; boundary=" + jersey.decode(),
         multipart(jersey,
                   (b"Content-Type: text/plain; charset=UTF-8\r\n"
                    b'Content-Disposition: form-data; name="title"', "Grüße".encode()),
                   (b"Content-Type: application/octet-stream\r\n"
                    b'Content-Disposition: form-data; filename="a.jpg"; '
                    b'modification-date="Mon, 07 Dec 2026 04:00:00 GMT"; size=2056; name="file"',
                    jpeg))),
        ("OkHttp / Java 11 HttpClient, charset=utf-8", "multipart/form-data; boundary=" +
         okhttp.decode(),
         multipart(okhttp,
                   (b'Content-Disposition: form-data; name="title"\r\n'
                    b"Content-Type: text/plain; charset=utf-8\r\nContent-Length: 6",
                    "Grüße".encode()))),
        (".NET MultipartFormDataContent", 'multipart/form-data; boundary="%s"' % dotnet.decode(),
         multipart(dotnet,
                   (b"Content-Type: text/plain; charset=utf-8\r\n"
                    b"Content-Disposition: form-data; name=title", "Grüße".encode()),
                   (b"Content-Type: text/plain; charset=utf-16\r\n"
                    b"Content-Disposition: form-data; name=wide", "Grüße".encode("utf-16")))),
        ("urlencoded, ISO-8859-1", "application/x-www-form-urlencoded; charset=ISO-8859-1",
         b"q=caf%E9&n=1"),
        ("multipart with charset=UTF-8 on the request (Spring RestTemplate)",
         "multipart/form-data; charset=UTF-8; boundary=" + okhttp.decode(),
         multipart(okhttp, field(b"title", "UTF-8", "Grüße".encode()),
                   field(b"_charset_", None, b"UTF-8"))),
    ]


@CHARSETS.test
def test_real_clients_pass(srv):
    for what, ctype, body in client_bodies():
        expect_reached(post(srv, body, ctype), body, what)


@CHARSETS.test
def test_informational_flags_in_debug_log(srv):
    body = multipart(b"q1", field(b"a", None, b"1"))
    expect_reached(post(srv, body, 'multipart/form-data; boundary="q1"'), body, "quoted boundary")
    log = srv.path("logs/debug.log").read_text(errors="replace")
    expect("Multipart: MULTIPART_BOUNDARY_QUOTED" in log,
           "the quoted boundary is not in the level-4 debug log:\n%s" % log[-2000:])
