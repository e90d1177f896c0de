#!/usr/bin/env python3
"""Builds the CRS differential corpus: tests/crs/corpus.jsonl, one request per line.

Each line is {"id": N, "cat": CATEGORY, "where": PLACE, "raw": REQUEST}, REQUEST being the exact
bytes of an HTTP/1.1 request decoded as latin-1 (so every byte survives JSON and stays readable).
Attack categories follow CRS's rule files (protocol, lfi, rfi, rce, php, nodejs, xss, sqli,
session, java, scanner, multipart, leakage); every payload of tests/crs/payloads.py is placed
in each part of a request that rule family reads (query value, argument name, form body,
JSON body, XML body, multipart field, cookie, Referer, path). Benign traffic imitates real
clients: browsers (forms, uploads, large cookies), JSON and XML APIs from curl, Python, Java,
Go, .NET and Node clients, WordPress- and Drupal-style requests. Deterministic (seeded):
`python3 tests/crs/corpus.py` regenerates the same file.
"""
import json
import random
import sys
import urllib.parse
from pathlib import Path
from xml.sax.saxutils import escape as xml_escape

sys.path.insert(0, str(Path(__file__).resolve().parent))
import payloads as P  # noqa: E402

HOST = "www.example.com"
SEED = 3304
OUT = Path(__file__).resolve().parent / "corpus.jsonl"


def q(s):
    return urllib.parse.quote(s, safe="")


def request(method, target, headers=(), body=b"", ua=None):
    """Raw request bytes with Host, User-Agent, Accept and (for a body) Content-Length."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    lines = ["%s %s HTTP/1.1" % (method, target), "Host: " + HOST]
    names = {h.split(":", 1)[0].lower() for h in headers}
    if "user-agent" not in names:
        lines.append("User-Agent: " + (ua or P.BROWSER_UAS[0]))
    if "accept" not in names:
        lines.append("Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
    lines += list(headers)
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append("Content-Length: %d" % len(body))
    lines.append("Connection: close")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")
    return head + body


def multipart(fields, files=(), boundary="----WebKitFormBoundary7MA4YWxkTrZu0gW"):
    out = []
    for name, value in fields:
        out.append("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n" % (boundary, name, value))
    for name, filename, ctype, content in files:
        out.append("--%s\r\nContent-Disposition: form-data; name=\"%s\"; filename=\"%s\"\r\n"
                   "Content-Type: %s\r\n\r\n%s\r\n" % (boundary, name, filename, ctype, content))
    out.append("--%s--\r\n" % boundary)
    return "".join(out), "multipart/form-data; boundary=" + boundary


def placements(payload):
    """(where, raw request) for one payload in every part of a request CRS reads."""
    yield "query", request("GET", "/search.php?q=" + q(payload) + "&page=2")
    yield "argname", request("GET", "/index.php?" + q(payload) + "=1")
    yield "form", request("POST", "/login.php", ["Content-Type: application/x-www-form-urlencoded"],
                          "user=" + q(payload) + "&pass=hunter2")
    yield "json", request("POST", "/api/items", ["Content-Type: application/json"],
                          json.dumps({"name": payload, "qty": 1}), ua=P.CLIENT_UAS[1])
    yield "xml", request("POST", "/api/soap", ["Content-Type: text/xml; charset=utf-8"],
                         "<?xml version=\"1.0\"?><item><name>%s</name></item>" % xml_escape(payload),
                         ua=P.CLIENT_UAS[3])
    body, ctype = multipart([("comment", payload), ("submit", "Send")])
    yield "multipart", request("POST", "/upload.php", ["Content-Type: " + ctype], body)
    yield "cookie", request("GET", "/account.php", ["Cookie: lang=en; pref=" + q(payload)])
    yield "referer", request("GET", "/index.php", ["Referer: https://www.example.com/?" + q(payload)])
    yield "path", request("GET", "/files/" + q(payload).replace("%2F", "/"))


def attacks():
    cats = [("sqli", P.SQLI), ("xss", P.XSS), ("lfi", P.LFI), ("rfi", P.RFI), ("rce", P.RCE),
            ("php", P.PHP), ("nodejs", P.NODEJS), ("java", P.JAVA), ("session", P.SESSION)]
    for cat, lst in cats:
        for payload in lst:
            for where, raw in placements(payload):
                yield cat, where, raw
            # Double URL encoding and mixed case in the query: what an evasion attempt sends.
            yield cat, "query-double", request("GET", "/search.php?q=" + q(q(payload)))
            yield cat, "query-case", request("GET", "/search.php?q=" + q(payload.upper()))
    for ua in P.SCANNER_UAS:
        yield "scanner", "user-agent", request("GET", "/", ua=ua)
        yield "scanner", "user-agent-post", request("POST", "/login.php", ["Content-Type: application/x-www-form-urlencoded"], "a=1", ua=ua)
    for url in P.SCANNER_URLS:
        yield "scanner", "url", request("GET", url)
    yield "scanner", "header", request("GET", "/", ["Acunetix-Product: WVS/5.0", "Acunetix-Scanning-agreement: Third Party Scanning PROHIBITED"])
    yield "scanner", "header", request("GET", "/", ["X-Scanner: Netsparker"])
    for page in P.LEAKS:
        yield "leakage", "response", request("GET", "/leak/" + page)
        yield "leakage", "response-ua", request("GET", "/leak/" + page, ua=P.CLIENT_UAS[0])
    yield from protocol()
    yield from multipart_attacks()
    # Session fixation as CRS sees it: a session id in the query with a foreign Referer.
    for sid in P.SESSION:
        name, _, value = sid.partition("=")
        if value and "<" not in sid and "document" not in sid:
            yield "session", "fixation", request("GET", "/login.php?%s=%s" % (q(name), q(value)),
                                                 ["Referer: https://attacker.example/page"])


def protocol():
    cat = "protocol"
    raw = [
        b"GET / HTTP/1.1\r\nUser-Agent: x\r\nConnection: close\r\n\r\n",                        # no Host
        b"GET / HTTP/1.1\r\nHost: 192.0.2.1\r\nUser-Agent: x\r\nAccept: */*\r\nConnection: close\r\n\r\n",  # numeric Host
        b"GET / HTTP/1.1\r\nHost: www.example.com\r\nConnection: close\r\n\r\n",                 # no UA, no Accept
        b"GET / HTTP/1.0\r\nConnection: close\r\n\r\n",
        b"POST /login.php HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: x\r\nAccept: */*\r\nContent-Type: application/x-foo\r\nContent-Length: 3\r\nConnection: close\r\n\r\na=1",
        b"POST /login.php HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: x\r\nAccept: */*\r\nContent-Length: 3\r\nConnection: close\r\n\r\na=1",
        b"GET /index.php?a=%00b HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: x\r\nAccept: */*\r\nConnection: close\r\n\r\n",
        b"GET /index.php?a=%c0%af HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: x\r\nAccept: */*\r\nConnection: close\r\n\r\n",
        b"GET /index.php?a=%zz HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: x\r\nAccept: */*\r\nConnection: close\r\n\r\n",
        b"GET /index.php?a=%u0041 HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: x\r\nAccept: */*\r\nConnection: close\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: x\r\nAccept: */*\r\nRange: bytes=0-,1-,2-,3-,4-,5-,6-,7-\r\nConnection: close\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: x\r\nAccept: */*\r\nRange: bytes=10-1\r\nConnection: close\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: x\r\nAccept: */*\r\nRequest-Range: bytes=0-1\r\nConnection: close\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: x\r\nAccept: */*\r\nProxy: http://evil.example/\r\nConnection: close\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: x\r\nAccept: */*\r\nContent-Encoding: gzip\r\nConnection: close\r\n\r\n",
        b"GET /backup.bak HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: x\r\nAccept: */*\r\nConnection: close\r\n\r\n",
        b"GET /db.sql HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: x\r\nAccept: */*\r\nConnection: close\r\n\r\n",
        b"GET /.git/HEAD HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: x\r\nAccept: */*\r\nConnection: close\r\n\r\n",
        b"GET /web.config HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: x\r\nAccept: */*\r\nConnection: close\r\n\r\n",
        b"OPTIONS * HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: x\r\nAccept: */*\r\nConnection: close\r\n\r\n",
        b"TRACE / HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: x\r\nAccept: */*\r\nConnection: close\r\n\r\n",
        b"DELETE /item/1 HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: x\r\nAccept: */*\r\nConnection: close\r\n\r\n",
        b"PROPFIND / HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: x\r\nAccept: */*\r\nConnection: close\r\n\r\n",
        b"GET /index.php?a=b%0d%0aSet-Cookie:%20x=y HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: x\r\nAccept: */*\r\nConnection: close\r\n\r\n",
        b"GET /index.php?lang=en%0d%0aLocation:%20http://evil.example HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: x\r\nAccept: */*\r\nConnection: close\r\n\r\n",
        b"GET /index.php?user=*)(uid=*))(|(uid=* HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: x\r\nAccept: */*\r\nConnection: close\r\n\r\n",
        b"GET /index.php?a=1&a=2&a=3 HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: x\r\nAccept: */*\r\nConnection: close\r\n\r\n",
        b"GET /index.php?a=%ff%fe HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: x\r\nAccept: */*\r\nConnection: close\r\n\r\n",
        b"GET /index.php HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: x\r\nAccept: */*\r\nX-Bad: \x01\x02\r\nConnection: close\r\n\r\n",
        b"POST /index.php HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: x\r\nAccept: */*\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\na=1\r\n0\r\n\r\n",
        b"GET /index.php?x=GET%20/admin%20HTTP/1.1 HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: x\r\nAccept: */*\r\nConnection: close\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: x\r\nAccept: */*\r\nAccept-Charset: utf-7\r\nConnection: close\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: x\r\nAccept: */*\r\nCache-Control: no-cache, no-store, x=\x7f\r\nConnection: close\r\n\r\n",
        b"GET /a%2e%2e/b HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: x\r\nAccept: */*\r\nConnection: close\r\n\r\n",
        b"GET /index.php?" + b"&".join(b"p%d=1" % i for i in range(300)) + b" HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: x\r\nAccept: */*\r\nConnection: close\r\n\r\n",
        b"GET /index.php?" + b"n" * 200 + b"=1 HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: x\r\nAccept: */*\r\nConnection: close\r\n\r\n",
        b"GET /index.php?a=" + b"v" * 500 + b" HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: x\r\nAccept: */*\r\nConnection: close\r\n\r\n",
    ]
    for r in raw:
        yield cat, "raw", r


def multipart_attacks():
    cat = "multipart"
    yield cat, "php-upload", request("POST", "/upload.php", ["Content-Type: multipart/form-data; boundary=B"],
                                     "--B\r\nContent-Disposition: form-data; name=\"f\"; filename=\"shell.php\"\r\nContent-Type: application/octet-stream\r\n\r\n<?php system($_GET['c']); ?>\r\n--B--\r\n")
    for fn in ["shell.phtml", "x.php5", ".htaccess", "web.config", "a.jsp", "b.asp", "c.aspx", "d.php.jpg", "e.shtml"]:
        yield cat, "filename", request("POST", "/upload.php", ["Content-Type: multipart/form-data; boundary=B"],
                                       "--B\r\nContent-Disposition: form-data; name=\"f\"; filename=\"%s\"\r\nContent-Type: image/jpeg\r\n\r\nJFIF\r\n--B--\r\n" % fn)
    bodies = [
        "--B\r\nContent-Disposition: form-data; name=\"a\"\r\nContent-Type: text/plain; charset=utf-7\r\n\r\n+ADw-script+AD4-\r\n--B--\r\n",
        "--B\r\nContent-Disposition: form-data; name=\"_charset_\"\r\n\r\nutf-7\r\n--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n--B--\r\n",
        "--B\r\nContent-Disposition: form-data; name=\"a\"\r\nContent-Transfer-Encoding: base64\r\n\r\nPHNjcmlwdD4=\r\n--B--\r\n",
        "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n--B\r\n",                           # no final boundary
        "preamble\r\n--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n--B--\r\n",
        "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n--B--\r\ntrailing",
        "--B\r\nContent-Disposition: form-data; name=a\"\r\n\r\nx\r\n--B--\r\n",
        "--B\r\nContent-Disposition: form-data; name=\"a\"; filename=\"x\"; filename*=UTF-8''y\r\n\r\nx\r\n--B--\r\n",
        "--B\nContent-Disposition: form-data; name=\"a\"\n\nx\n--B--\n",
        "--B\r\nContent-Disposition: form-data;\r\n name=\"a\"\r\n\r\nx\r\n--B--\r\n",
        "--B\r\nContent-Disposition: form-data name=\"a\"\r\n\r\nx\r\n--B--\r\n",
        "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n--Bx\r\n--B--\r\n",
    ]
    for b in bodies:
        yield cat, "strict", request("POST", "/upload.php", ["Content-Type: multipart/form-data; boundary=B"], b)
    for ct in ["multipart/form-data; boundary=\"B\"", "multipart/form-data; boundary= B", "multipart/form-data; boundary=B; boundary=C",
               "multipart/form-data", "multipart/form-data; boundary=B,x", "multipart/mixed; boundary=B"]:
        yield cat, "content-type", request("POST", "/upload.php", ["Content-Type: " + ct],
                                           "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n--B--\r\n")


def benign(rng, n):
    def words(k):
        return " ".join(rng.choice(P.WORDS) for _ in range(k))

    def name():
        return rng.choice(P.FIRST_NAMES)

    made = 0
    while made < n:
        kind = rng.randrange(14)
        ua = rng.choice(P.BROWSER_UAS)
        cookie = "Cookie: _ga=GA1.2.%d.%d; sessionid=%032x; theme=dark" % (rng.randrange(10**9), rng.randrange(10**9), rng.getrandbits(128))
        accept_lang = "Accept-Language: " + rng.choice(["en-US,en;q=0.9", "de-DE,de;q=0.9,en;q=0.8", "fr-FR,fr;q=0.9", "ja,en;q=0.5"])
        if kind == 0:
            raw = request("GET", "/" + rng.choice(["", "index.html", "about/", "blog/2024/03/spring-sale", "static/app.%d.js" % rng.randrange(999), "img/logo.png"]),
                          [accept_lang, cookie, "Accept-Encoding: gzip, deflate, br"], ua=ua)
            where = "browser-get"
        elif kind == 1:
            raw = request("GET", "/search.php?q=%s&sort=%s" % (q(words(rng.randint(1, 6))), rng.choice(["date", "relevance"])), [accept_lang, cookie], ua=ua)
            where = "search"
        elif kind == 2:
            form = {"name": name() + " " + name(), "email": "%s@example.org" % name().lower().replace("'", ""), "message": words(rng.randint(5, 40)),
                    "phone": "+1 (555) %03d-%04d" % (rng.randrange(1000), rng.randrange(10000))}
            raw = request("POST", "/contact.php", ["Content-Type: application/x-www-form-urlencoded", accept_lang, cookie, "Origin: https://www.example.com", "Referer: https://www.example.com/contact"],
                          urllib.parse.urlencode(form), ua=ua)
            where = "browser-form"
        elif kind == 3:
            img = bytes(rng.randrange(256) for _ in range(rng.randint(50, 400)))
            boundary = "----WebKitFormBoundary%016x" % rng.getrandbits(64)
            body = ("--%s\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\n%s\r\n--%s\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"IMG_%04d.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n"
                    % (boundary, words(3), boundary, rng.randrange(10000))).encode() + img + ("\r\n--%s--\r\n" % boundary).encode()
            raw = request("POST", "/upload.php", ["Content-Type: multipart/form-data; boundary=" + boundary, accept_lang, cookie], body, ua=ua)
            where = "browser-upload"
        elif kind == 4:
            doc = {"id": rng.randrange(10**6), "title": words(4), "tags": [rng.choice(P.WORDS) for _ in range(3)], "price": rng.randrange(10000) / 100,
                   "author": {"name": name(), "bio": words(12)}, "published": rng.random() < 0.5}
            raw = request(rng.choice(["POST", "PUT"]), "/api/v1/articles/%d" % rng.randrange(1000), ["Content-Type: application/json", "Accept: application/json", "Authorization: Bearer %040x" % rng.getrandbits(160)],
                          json.dumps(doc, ensure_ascii=rng.random() < 0.5), ua=rng.choice(P.CLIENT_UAS))
            where = "json-api"
        elif kind == 5:
            raw = request("POST", "/api/soap", ["Content-Type: text/xml; charset=utf-8", "SOAPAction: \"urn:getQuote\""],
                          "<?xml version=\"1.0\" encoding=\"utf-8\"?><soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap:Body><getQuote><symbol>%s</symbol><note>%s</note></getQuote></soap:Body></soap:Envelope>"
                          % (rng.choice(["IBM", "MSFT", "AT&amp;T"]), xml_escape(words(6))), ua=rng.choice(P.CLIENT_UAS))
            where = "xml-api"
        elif kind == 6:
            raw = request("POST", "/wp-admin/admin-ajax.php", ["Content-Type: application/x-www-form-urlencoded; charset=UTF-8", "X-Requested-With: XMLHttpRequest", cookie],
                          "action=%s&nonce=%010x&post_id=%d" % (rng.choice(["heartbeat", "save-widget", "query-attachments"]), rng.getrandbits(40), rng.randrange(9999)), ua=ua)
            where = "wordpress"
        elif kind == 7:
            raw = request("POST", "/wp-login.php", ["Content-Type: application/x-www-form-urlencoded", cookie],
                          "log=%s&pwd=%s&wp-submit=Log+In&redirect_to=%s&testcookie=1" % (q(name()), q("P@ss w0rd!%d" % rng.randrange(99)), q("https://www.example.com/wp-admin/")), ua=ua)
            where = "wordpress-login"
        elif kind == 8:
            raw = request("GET", "/?p=%d&preview=true" % rng.randrange(5000), [cookie], ua=ua) if rng.random() < 0.5 else \
                request("GET", "/wp-json/wp/v2/posts?per_page=%d&_embed" % rng.randint(1, 50), ["Accept: application/json"], ua=ua)
            where = "wordpress-get"
        elif kind == 9:
            raw = request("POST", "/user/login", ["Content-Type: application/x-www-form-urlencoded", cookie],
                          "name=%s&pass=%s&form_build_id=form-%022x&form_id=user_login_form&op=Log+in" % (q(name()), q(words(2)), rng.getrandbits(88)), ua=ua)
            where = "drupal"
        elif kind == 10:
            big = "; ".join("c%d=%s" % (i, "%x" % rng.getrandbits(200)) for i in range(rng.randint(20, 60)))
            raw = request("GET", "/dashboard", ["Cookie: " + big, accept_lang], ua=ua)
            where = "large-cookie"
        elif kind == 11:
            raw = request("GET", "/node/%d?destination=%s" % (rng.randrange(999), q("/admin/content?status=1&type=article")), [cookie], ua=ua)
            where = "drupal-get"
        elif kind == 12:
            payload = {"query": "query { user(id: %d) { name email } }" % rng.randrange(999), "variables": {"x": words(2)}}
            raw = request("POST", "/graphql", ["Content-Type: application/json"], json.dumps(payload), ua=rng.choice(P.CLIENT_UAS))
            where = "graphql"
        else:
            raw = request("GET", "/products?category=%s&price_min=%d&price_max=%d&color[]=red&color[]=blue" % (q(rng.choice(P.WORDS)), rng.randrange(50), 50 + rng.randrange(500)), [cookie], ua=ua)
            where = "shop"
        yield "benign", where, raw
        made += 1


def build():
    rng = random.Random(SEED)
    rows = list(attacks())
    rows += list(benign(rng, max(3400, 5200 - len(rows))))
    return [{"id": i, "cat": c, "where": w, "raw": raw.decode("latin-1")} for i, (c, w, raw) in enumerate(rows)]


def load():
    return [json.loads(line) for line in OUT.read_text().splitlines()]


if __name__ == "__main__":
    rows = build()
    with OUT.open("w") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=True) + "\n")
    counts = {}
    for r in rows:
        counts[r["cat"]] = counts.get(r["cat"], 0) + 1
    print("%d requests: %s" % (len(rows), ", ".join("%s %d" % kv for kv in sorted(counts.items()))))
