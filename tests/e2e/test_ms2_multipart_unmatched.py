"""MULTIPART_UNMATCHED_BOUNDARY as ModSecurity 2.9.7 reckons it: 1 when a line of the body
(preamble, part headers, part content, before the final delimiter) starts with "--", is at least
four bytes long with its line end and is not a delimiter, or holds "--boundary" after its first
byte. Benign bodies trip it (a SQL comment or a Markdown rule in a text field), so the
recommended rule 200004 refuses them under ModSecurity; Parapet gives the variable the same
value, so the same rule refuses the same bodies. Parapet's own strict verdicts (400 before
phase 2) are not involved: every body here is one Parapet's parser accepts.
"""
from harness import compare_with_modsecurity
B = "----WebKitFormBoundary7MA4YWxkTrZu0gW"
RULES = """SecRequestBodyAccess On
SecAction "id:9,phase:2,pass,log,msg:'UB=%{MULTIPART_UNMATCHED_BOUNDARY} SE=%{MULTIPART_STRICT_ERROR} RE=%{REQBODY_ERROR}'"
SecRule MULTIPART_UNMATCHED_BOUNDARY "@eq 1" "id:200004,phase:2,t:none,log,deny,msg:'Multipart parser detected a possible unmatched boundary.'"
"""


def field(name, value, extra_headers=""):
    return ("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n%s\r\n%s\r\n"
            % (B, name, extra_headers, value))


def upload(name, filename, content):
    return ("--%s\r\nContent-Disposition: form-data; name=\"%s\"; filename=\"%s\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n%s\r\n" % (B, name, filename, content))


END = "--%s--\r\n" % B

# (name, body): each body is one Parapet's strict parser accepts.
CASES = [
    ("plain", field("a", "hello") + END),
    ("sql-comment", field("q", "select 1\r\n-- a comment\r\nfrom t") + END),
    ("dashes-only-crlf", field("q", "a\r\n--\r\nb") + END),
    ("dashes-only-lf", field("q", "a\n--\nb") + END),
    ("three-dashes", field("q", "title\r\n---\r\nbody") + END),
    ("dash-space", field("q", "a\r\n-- \r\nb") + END),
    ("single-dash", field("q", "a\r\n-x\r\nb") + END),
    ("dashes-last-line", field("q", "a\r\n--") + END),
    ("dashes-x-last-line", field("q", "a\n--x") + END),
    ("dashes-first-line", field("q", "--x\r\nb") + END),
    ("dashes-nul", field("q", "a\r\n--\x00x\r\nb") + END),
    ("dash-dash-nul-late", field("q", "a\r\n--x\x00\r\nb") + END),
    ("boundary-mid-line", field("q", "x--%s" % B) + END),
    ("boundary-mid-line-2", field("q", "abc\r\nzz --%s zz\r\nd" % B) + END),
    ("short-prefix", field("q", "a\r\n--%s\r\nb" % B[:6]) + END),
    ("other-boundary", field("q", "a\r\n--AaB03x\r\nb") + END),
    ("file-markdown", upload("f", "a.md", "# T\n\n---\n\ntext\n") + END),
    ("file-binary", upload("f", "a.bin", "\x01\x02\n\x7f--\x03\x04\n--\x05") + END),
    ("file-clean", upload("f", "a.txt", "one\r\ntwo - three\r\n") + END),
    ("two-parts", field("a", "x") + field("b", "y\r\n--y") + END),
    ("header-dashes", field("a", "x", "--X-Note: y\r\n") + END),
]


def test_unmatched_boundary_as_modsecurity():
    requests = [("POST", "/c%d" % i, {"Content-Type": "multipart/form-data; boundary=%s" % B},
                 body.encode("latin-1")) for i, (_, body) in enumerate(CASES)]
    ms, _ = compare_with_modsecurity("SecRuleEngine On\n" + RULES, requests, name="ms2mpub")
    flagged = [CASES[i][0] for i, status in enumerate(ms.statuses) if status == 403]
    assert len(flagged) == 15, flagged  # the oracle flags what the cases are about
    print("    ModSecurity flags %d bodies: %s" % (len(flagged), " ".join(flagged)))
