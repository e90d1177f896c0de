"""SecUnicodeMapFile against ModSecurity 2.9.7 itself: urlDecodeUni maps %uHHHH through the code
page of Debian's unicode.mapping exactly as the module does.

For each configuration (a code page given on SecUnicodeMapFile, none, SecUnicodeCodePage before
the map, SecUnicodeCodePage after it) a real Apache with mod_security2 and one with Parapet run
`t:none,t:urlDecodeUni,t:hexEncode` over arguments made of %uHHHH escapes: every code point the
map lists for the code pages tested, the RFC 3490 dots, full-width ASCII, and seeded random code
points. MATCHED_VAR is logged; the decoded bytes must be identical for every value.
"""
import os
import random
import re
import time
import urllib.parse

from harness import MODSEC_SO, Apache, Skip

MAPPING = "/etc/modsecurity/unicode.mapping"
SEED = 20261207
PER_VALUE = 8     # escapes per argument
PER_REQUEST = 300  # arguments per request, below ModSecurity's SecArgumentsLimit

RULE = ("SecRule ARGS \"@unconditionalMatch\" \"id:1,phase:2,pass,log,t:none,t:urlDecodeUni,"
        "t:hexEncode,logdata:'%{MATCHED_VAR_NAME}=%{MATCHED_VAR}'\"")

CONFIGS = [
    ("codepage 20127", "SecUnicodeMapFile unicode.mapping 20127"),
    ("codepage 1252", "SecUnicodeMapFile unicode.mapping 1252"),
    ("no codepage", "SecUnicodeMapFile unicode.mapping"),
    ("codepage first", "SecUnicodeCodePage 437\nSecUnicodeMapFile unicode.mapping"),
    ("codepage after", "SecUnicodeMapFile unicode.mapping\nSecUnicodeCodePage 20127"),
]


def mapped_codes(text):
    """Every code point any section of the file lists."""
    return sorted({int(m.group(1), 16) for m in re.finditer(r"\b([0-9a-fA-F]{4}):[0-9a-fA-F]+",
                                                            text)})


def values(text):
    rng = random.Random(SEED)
    codes = mapped_codes(text)
    codes += [0x3002, 0xff61, 0xff0e, 0x002e, 0x0000, 0x00ff, 0xffff, 0xff00, 0xff5f]
    codes += list(range(0xff01, 0xff5f))
    codes += [rng.randrange(0, 0x10000) for _ in range(600)]
    rng.shuffle(codes)
    out = []
    for i in range(0, len(codes), PER_VALUE):
        # Mixed case hex and both spellings of the u, as clients send them.
        esc = []
        for c in codes[i:i + PER_VALUE]:
            h = "%04x" % c
            esc.append(("%U" if c % 3 == 0 else "%u") + (h.upper() if c % 2 else h))
        out.append("".join(esc))
    return out


def unmapped(value):
    """urlDecodeUni without a map, as hex: the low byte, +0x20 for full-width ASCII."""
    out = []
    for k in range(0, len(value), 6):
        c = int(value[k + 2:k + 6], 16)
        b = c & 0xff
        if c >> 8 == 0xff and 0 < b < 0x5f:
            b += 0x20
        out.append("%02x" % b)
    return "".join(out)


def run(load_parapet, directives, vals):
    # The map is named relative to the file that names it (ModSecurity resolves it so).
    snippet = "SecRuleEngine On\nSecRequestBodyAccess On\nInclude @ROOT@/maps/uni.conf\n%s\n" % RULE
    if not load_parapet:
        snippet = ("LoadModule security2_module %s\nSecDataDir @ROOT@/data\nSecTmpDir @ROOT@/data\n"
                   "SecArgumentsLimit 1000\n" % MODSEC_SO) + snippet
    srv = Apache(snippet=snippet, load_parapet=load_parapet,
                 files={"maps/unicode.mapping": open(MAPPING, "rb").read(),
                        "maps/uni.conf": directives + "\n"},
                 name="ms2uni-" + ("parapet" if load_parapet else "modsec"))
    srv.start()
    try:
        for start in range(0, len(vals), PER_REQUEST):
            body = "&".join("v%d=%s" % (i, urllib.parse.quote(vals[i], safe=""))
                            for i in range(start, min(start + PER_REQUEST, len(vals))))
            resp = srv.request("POST", "/index.html", body=body.encode(),
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
            if resp.status != 200:
                raise AssertionError("%s answered %d" % (srv.name, resp.status))
        time.sleep(0.5)
        log = srv.error_log()
    finally:
        srv.stop()
    found = {}
    for m in re.finditer(r'\[data "ARGS:v(\d+)=([0-9a-f]*)"\]', log):
        found[int(m.group(1))] = m.group(2)
    return found


def test_unicode_map_matches_modsecurity():
    if not os.path.exists(MODSEC_SO) or not os.path.exists(MAPPING):
        raise Skip("libapache2-mod-security2 (and its unicode.mapping) is not installed")
    vals = values(open(MAPPING, errors="replace").read())
    differences, compared, mapped = [], 0, 0
    for name, directives in CONFIGS:
        theirs = run(False, directives, vals)
        ours = run(True, directives, vals)
        for i, v in enumerate(vals):
            if i not in theirs:
                differences.append("%s %s: no log line from ModSecurity" % (name, v))
                continue
            compared += 1
            # Bytes that differ from the rule without a map: the map was used.
            mapped += theirs[i] != unmapped(v)
            if ours.get(i) != theirs[i]:
                differences.append("%s %s: parapet %s, modsecurity %s"
                                   % (name, v, ours.get(i), theirs[i]))
    print("    %d configurations x %d values: %d compared (%d changed by a map), %d differences"
          % (len(CONFIGS), len(vals), compared, mapped, len(differences)))
    if differences:
        raise AssertionError("%d differences:\n  %s" % (len(differences),
                                                         "\n  ".join(differences[:40])))
