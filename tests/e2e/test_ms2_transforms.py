"""Transformations against ModSecurity 2.9.7 itself (the oracle of the SecRule work).

One real Apache with Debian's mod_security2 runs, for every transformation in Parapet's
registry, a rule `t:none,t:NAME,t:hexEncode` with `logdata:'%{MATCHED_VAR_NAME}=%{MATCHED_VAR}'`
over ARGS: MATCHED_VAR holds the transformed value, hexEncode makes it survive the error log.
The same values go through `build/parapet transform NAME --hex`, and every output must be
byte-identical. The values are the reference's observed edge cases plus seeded random strings
over the bytes each decoder cares about (escapes, entities, comment markers, slashes, UTF-8
lead and continuation bytes, NUL, NBSP). A difference is printed with its input, both outputs,
and the transformation.
"""
import os
import random
import re
import subprocess
import time
import urllib.parse

import harness
from harness import MODSEC_SO, REPO, Apache, Skip

PARAPET = REPO / "build" / "parapet"
# A fixed seed keeps make check deterministic; PARAPET_TFN_SEED and PARAPET_TFN_VALUES explore.
SEED = int(os.environ.get("PARAPET_TFN_SEED", "20261207"))
RANDOM_VALUES = int(os.environ.get("PARAPET_TFN_VALUES", "500"))
PER_REQUEST = 400          # below ModSecurity's argument limit
MAX_LEN = 24               # the longest output (utf8toUnicode, x7) stays within logdata's 512 bytes

ALPHABET = (b"%uU+&#xX;\\/.*-<!>'\"^,;() \t\r\n\v\f=0123456789abcdefABCDEFGgnrtvqlmpsoz"
            b"\x00\xa0\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\xf5\xed\xa0\xc0\xaf\xff\x80")

EDGE_CASES = [
    b"", b"abc", b"AbC\xc3\x89", b"%41%zz%2x%", b"%%41", b"a+b", b"%u0042%uff41%u00e9%u2215",
    b"%u12", b"%U0041", b"&#65;&#x41;&#X41&#;&#x;&foo;&lt&GT;&nbsp;&#x110000;&#1234;",
    b"\\x41\\u0042\\103\\n\\'\\q\\u00e9\\uff41\\x4", b"\\41 B\\000043\\\nD\\e9 \\ff41 x\\",
    b"\\a\\?\\x4g\\0\\777\\X41", b"x--y z", b"p#q", b"/* z */", b"un/*term", b"a/*b*/c--d#e<!--f-->g",
    b"a/*b*/c/*d", b"C:\\WINDOWS\\system32\\cmd.exe /c \"dir\"", b"a ^ b", b"a\x00b c",
    b"a/../../b/", b"/../x", b"\\a\\.\\b\\..\\c\\\\d", b"./a/./b//c/", b"..", b"/.", b"a/..",
    b"dGVzdA", b"dG Vz", b"!!!", b"dGVzdA==abc", b"dG.VzdA", b"dG Vz dA==", b"d=GVz",
    b"4142G1", b"0x414243 x 0X4142 0x4", b"0x41", b"00x41x", b"0x4100x41",
    b"a b&c=d/\xc3\xa9*-._", b"\xc3\xa9\xe2\x82\xac\xef\xbd\x81A", b"\xc3\xa9\xff\xe2\x82",
    b"\xf0\x9f\x98\x80", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf5\x80\x80\x80", b"a\x00b",
    b"a \t\n b\xa0\xa0c \v", b"  x  ", b"\x7f\xff\x01",
    b"%u003cscript%3E&lt;&#x73;\\x63ript\\3e",
]


def transformation_names():
    """Every row of the registry, as `parapet help`-independent truth: ask the tool."""
    names = []
    probe = subprocess.run([str(PARAPET), "transform", "none", "x"], capture_output=True)
    if probe.returncode != 0:
        raise AssertionError("parapet transform does not run: %r" % probe.stderr)
    source = (REPO / "src/engine/rules/transforms/table.c").read_text()
    for name in re.findall(r'\{ "(\w+)",', source):
        if name != "none":
            names.append(name)
    return names


def values():
    rng = random.Random(SEED)
    out = list(EDGE_CASES)
    for _ in range(RANDOM_VALUES):
        n = rng.randint(1, MAX_LEN)
        out.append(bytes(rng.choice(ALPHABET) for _ in range(n)))
    return [v for v in out if len(v) <= MAX_LEN * 2]


def oracle_outputs(names, vals):
    """{(name, index): bytes} as ModSecurity 2.9.7 transforms each value."""
    rules = []
    for k, name in enumerate(names):
        rules.append('SecRule ARGS "@unconditionalMatch" "id:%d,phase:2,pass,log,t:none,t:%s,'
                     't:hexEncode,logdata:\'%%{MATCHED_VAR_NAME}=%%{MATCHED_VAR}\'"'
                     % (1000 + k, name))
    snippet = """
LoadModule security2_module %s
SecRuleEngine On
SecRequestBodyAccess On
SecRequestBodyLimit 13107200
SecRequestBodyNoFilesLimit 13107200
SecArgumentsLimit 1000
SecDataDir @ROOT@/data
SecTmpDir @ROOT@/data
%s
""" % (MODSEC_SO, "\n".join(rules))
    srv = Apache(snippet=snippet, load_parapet=False, name="ms2tfn")
    srv.start()
    try:
        for start in range(0, len(vals), PER_REQUEST):
            body = "&".join("v%d=%s" % (i, urllib.parse.quote_from_bytes(vals[i], safe=""))
                            for i in range(start, min(start + PER_REQUEST, len(vals))))
            resp = srv.request("POST", "/index.html", body=body.encode(),
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
            if resp.status != 200:
                raise AssertionError("ModSecurity answered %d" % resp.status)
        time.sleep(0.5)
        log = srv.error_log()
    finally:
        srv.stop()
    found = {}
    for line in log.splitlines():
        m = re.search(r'\[id "(\d+)"\].*\[data "ARGS:v(\d+)=([0-9a-f]*)"\]', line)
        if m:
            found[(names[int(m.group(1)) - 1000], int(m.group(2)))] = bytes.fromhex(m.group(3))
    return found


def parapet_outputs(name, vals):
    text = "".join(v.hex() + "\n" for v in vals)
    run = subprocess.run([str(PARAPET), "transform", name, "--hex"], input=text.encode(),
                         capture_output=True, check=True)
    lines = run.stdout.decode().split("\n")[:-1]
    assert len(lines) == len(vals), "%s: %d results for %d values" % (name, len(lines), len(vals))
    return [bytes.fromhex(l) for l in lines]


def test_transformations_match_modsecurity():
    if not os.path.exists(MODSEC_SO):
        raise Skip("libapache2-mod-security2 is not installed")
    names = transformation_names()
    vals = values()
    oracle = oracle_outputs(names, vals)
    differences, compared = [], 0
    for name in names:
        ours = parapet_outputs(name, vals)
        for i, v in enumerate(vals):
            theirs = oracle.get((name, i))
            if theirs is None:
                differences.append("%s %r: no log line from ModSecurity" % (name, v))
                continue
            compared += 1
            if ours[i] != theirs:
                differences.append("%s %r: parapet %r, modsecurity %r" % (name, v, ours[i], theirs))
    print("    %d transformations x %d values: %d compared, %d differences"
          % (len(names), len(vals), compared, len(differences)))
    if differences:
        raise AssertionError("%d differences:\n  %s" % (len(differences), "\n  ".join(differences[:60])))
