"""Operators against ModSecurity 2.9.7 itself (the oracle of the SecRule work).

One real Apache with Debian's mod_security2 runs, for every (operator, argument) case below, a
rule `SecRule ARGS "@op arg" "id:N,phase:2,pass,log,capture,logdata:'%{MATCHED_VAR_NAME}=%{TX.0}'"`
over generated values posted as ARGS; each match is one error-log line naming the rule and the
argument, and for the phrase operators TX:0 is the phrase ModSecurity reports. The same values
go through `build/parapet operator OP ARG --hex` (the engine's own table row), and the set of
matching values, and for @pm/@pmFromFile the reported phrase, must be identical. Values and
arguments are seeded random strings over small alphabets (so that phrases overlap and the
Aho-Corasick failure links are exercised), the reference's edge cases (empty values and
arguments, numbers with junk, signs, blanks and overflow, truncated UTF-8, %-escapes, IPv6),
and CRS 3.3.4's own phrase files. A difference is printed with the operator, the argument,
the value and both answers.
"""
import os
import random
import re
import shutil
import subprocess
import tempfile
import time
import urllib.parse

import harness
from harness import MODSEC_SO, REPO, Apache, Skip

PARAPET = REPO / "build" / "parapet"
CRS_RULES = "/usr/share/modsecurity-crs/rules"
SEED = int(os.environ.get("PARAPET_OP_SEED", "20261207"))
PER_REQUEST = 400


def rand_str(rng, alphabet, lo, hi):
    return bytes(rng.choice(alphabet) for _ in range(rng.randint(lo, hi)))


def string_values(rng):
    alpha = b"abAB_ -x1.\x00\xe9"
    vals = [b"", b"a", b"ab", b"abc", b"AB", b"ab_", b"x ab", b"ab x", b"-ab-", b"aab", b"\xe9ab\xe9"]
    vals += [rand_str(rng, alpha, 0, 8) for _ in range(150)]
    return vals


def string_cases(rng):
    args = ["a", "ab", "abc", "AB", "b_", "x a", "ab-", "-", "1", "\xe9".encode("latin-1").decode("latin-1")]
    args += [rand_str(rng, b"abAB_-x1.", 1, 3).decode() for _ in range(6)]
    cases = []
    for op in ("streq", "contains", "containsWord", "beginsWith", "endsWith", "within", "strmatch"):
        for a in args:
            cases.append((op, a))
    cases += [("within", "ab abc|x_y"), ("strmatch", "a|62|c"), ("strmatch", "a\\;b")]
    return cases


def number_values(rng):
    vals = [b"", b"0", b"5", b" 5", b"\t\n 5", b"5abc", b"abc", b"-3", b"+7", b"--3", b"+-3", b"- 3",
            b"0x10", b"010", b"1e3", b"3.9", b"-0", b"2147483647", b"2147483648", b"-2147483649",
            b"4294967301", b"99999999999999999999", b"-99999999999999999999", b"9223372036854775807",
            b"9223372036854775808", b"\x005", b"5\x006", b"\xa05", b"\x0b5", b" +0012x"]
    vals += [rand_str(rng, b"0123456789 -+ax", 0, 6) for _ in range(80)]
    return vals


def number_cases(rng):
    cases = []
    for op in ("eq", "ge", "gt", "le", "lt"):
        for a in ("0", "5", "-3", "5abc", "abc", "2147483648", "99999999999999999999", "+7", "010"):
            cases.append((op, a))
    return cases


def byte_values(rng):
    vals = [b"", b"%", b"%4", b"%41", b"%4g", b"%%41", b"a%2", b"%zz", b"\xc3\xa9", b"\xc3", b"\xe2\x82",
            b"\xe2\x82\xac", b"\xed\xa0\x80", b"\xf0\x9f\x98\x80", b"\xf4\x90\x80\x80", b"\xf5\x80\x80\x80",
            b"\xc0\xaf", b"\xc1\xbf", b"\xe0\x80\xaf", b"\xf0\x80\x80\xaf", b"\xf8\x88\x80\x80\x80",
            b"\x80", b"\xbf", b"\xff", b"\xfe", b"\xc3A", b"\xe2A\x82", b"a\x00b", b"\x7f", b"\t\r\n ~"]
    alpha = b"%0aAfFgG\x00\x09\x20\x7e\x7f\x80\xbf\xc0\xc3\xa9\xe2\x82\xac\xed\xa0\xf0\x9f\xf4\x90\xf5\xff"
    vals += [rand_str(rng, alpha, 1, 8) for _ in range(200)]
    return vals


def byte_cases(rng):
    cases = [("validateUrlEncoding", ""), ("validateUtf8Encoding", "")]
    for a in ("32-126", "1-255", "0-255", "9,10,13,32-126", "65", "0", "48-57,65-90,97-122",
              "0-0,37-37", "128-255", "1-2-3", "9 , 10", "32-126,128", " 48 - 57"):
        cases.append(("validateByteRange", a))
    return cases


def ip_values(rng):
    vals = [b"", b"127.0.0.1", b"127.0.0.2", b"10.1.2.3", b"11.0.0.1", b"192.168.1.77", b"192.168.2.1",
            b"1.2.3.4", b"1.2.3.5", b"1.2.3.6", b"::1", b"::2", b"2001:db8::1", b"2001:db9::1",
            b"::ffff:1.2.3.4", b"fe80::1%eth0", b"01.2.3.4", b"1.2.3", b"1.2.3.4 ", b" 1.2.3.4",
            b"256.1.1.1", b"1.2.3.4\x00x", b"abc", b"0.0.0.0", b"255.255.255.255", b"10.0.0.0",
            b"2001:DB8::abcd", b"2001:db8:0:0:0:0:0:1", b"1:2:3:4:5:6:7:8:9"]
    for _ in range(40):
        vals.append(("%d.%d.%d.%d" % tuple(rng.choice([1, 2, 3, 4, 5, 6, 10, 127, 192, 168, 255])
                                           for _ in range(4))).encode())
    return vals


def ip_cases(rng):
    return [("ipMatch", a) for a in (
        "127.0.0.1,::1", "10.0.0.0/8", "192.168.1.0/24,2001:db8::/32", "1.2.3.4/31", "1.2.3.0/24/", "10.0.0.0/08",
        "::ffff:1.2.3.4", "0.0.0.0/1", "1.2.3.4,5.6.7.8,10.10.10.10/30", "2001:db8::/127", "2001:db8::/64,::1",
        "255.255.255.255", "128.0.0.0/1,::/1")]


PM_ALPHA = b"abcAB"


def pm_values(rng):
    vals = [b"", b"a", b"abc", b"ABCD", b"xabcx", b"abcx", b"bcab"]
    vals += [rand_str(rng, PM_ALPHA + b"x ", 0, 12) for _ in range(250)]
    return vals


def pm_cases(rng):
    cases = []
    for _ in range(30):
        phrases = {rand_str(rng, PM_ALPHA, 1, 4).decode() for _ in range(rng.randint(1, 8))}
        cases.append(("pm", " ".join(sorted(phrases, key=lambda _: rng.random()))))
    cases += [("pm", "|61 62|c"), ("pm", "a|62|"), ("pm", "ab\\;c cab"), ("pm", "|41|bc BAa"),
              ("pm", "abcd bc"), ("pm", "abcd bc c"), ("pm", "ABC abc aBc bc"), ("pm", "a\\x")]
    return cases


def pmf_files(rng, tmp):
    """Phrase files with the quirks of ModSecurity's reader, and CRS's own."""
    files = []
    texts = [
        b"abc\nbc\n# comment\n  cab  \n\na\nAB\n",
        b"|61 62|c\nba\\;b\n \"bca\"\nb c\r\nx\n#a\nab#\n",
        b"".join(rand_str(rng, PM_ALPHA, 1, 5) + b"\n" for _ in range(60)),
    ]
    for i, t in enumerate(texts):
        path = os.path.join(tmp, "phrases%d.data" % i)
        with open(path, "wb") as f:
            f.write(t)
        files.append(path)
    return files


def crs_values(rng):
    """Values around CRS's phrase files: lines of them, pieces of lines, and benign text."""
    vals = [b"", b"hello world", b"GET /index.html", b"Mozilla/5.0 (X11; Linux x86_64)"]
    for name in ("php-function-names-933151.data", "unix-shell.data", "scanners-user-agents.data",
                 "lfi-os-files.data"):
        lines = [l.strip() for l in open(os.path.join(CRS_RULES, name), "rb")
                 if l.strip() and not l.startswith(b"#")]
        for _ in range(20):
            l = rng.choice(lines)
            cut = rng.randint(0, len(l))
            vals.append(b"x=" + l.upper() + b"(1)")
            vals.append(l[:cut])
    return vals


def crs_cases():
    return [("pmFromFile", os.path.join(CRS_RULES, n)) for n in (
        "php-function-names-933151.data", "unix-shell.data", "scanners-user-agents.data",
        "lfi-os-files.data", "restricted-files.data")]


def rx_values(rng):
    """Newlines where '.' and '$' decide (ModSecurity: PCRE_DOTALL | PCRE_DOLLAR_ENDONLY)."""
    vals = [b"", b"xy", b"x\ny", b"x\ry", b"xzy", b"a\nb", b"ab\n", b"b\n", b"\nb", b"a\n\nb",
            b"union\nselect", b"union select", b"x\x00y"]
    vals += [rand_str(rng, b"abxy\n\r ", 0, 6) for _ in range(60)]
    return vals


def rx_cases():
    return [("rx", a) for a in ("x.y", "^a.*b$", "b$", "^b", "a.b", "(?m)^b$", "(?-s)x.y",
                                "union.select", "^.{3}$", "x[^z]y")]


def luhn_complete(digits):
    """digits plus the check digit that makes them pass Luhn."""
    for d in "0123456789":
        n = digits + d
        total = 0
        for i, c in enumerate(reversed(n)):
            v = int(c) * (2 if i % 2 else 1)
            total += v - 9 if v > 9 else v
        if total % 10 == 0:
            return n
    raise AssertionError("no Luhn digit")


def cpf_complete(nine):
    d = [int(c) for c in nine]
    for _ in range(2):
        s = sum(v * w for v, w in zip(d, range(len(d) + 1, 1, -1)))
        d.append(0 if s % 11 < 2 else 11 - s % 11)
    return "".join(map(str, d))


def verify_values(rng):
    """Card, CPF and SSN look-alikes: valid numbers (made here), near misses, separators, the
    numbers ModSecurity's lists refuse, and random digit runs (a tenth of them pass Luhn)."""
    vals = [b"", b"0", b"4111111111111111", b"4111111111111112", b"14111111111111111",
            b"4111-1111-1111-1111", b"4111 1111 1111 1111", b"card 5500000000000004 ok",
            b"529.982.247-25", b"52998224725", b"529.982.247-26", b"111.111.111-11", b"01234567890",
            b"078-05-1120", b"078051120", b"123-45-6789", b"666-12-3456", b"740-12-3456",
            b"739-12-3456", b"000-12-3456", b"078-00-1120", b"078-05-0000", b"555-55-5555",
            b"1234567890123456789", b"x\n4111111111111111", b"4111111111111111\n"]
    for _ in range(40):
        vals.append(luhn_complete("".join(rng.choice("0123456789") for _ in range(rng.randint(12, 15)))).encode())
    for _ in range(25):
        c = cpf_complete("".join(rng.choice("0123456789") for _ in range(9)))
        vals.append(("%s.%s.%s-%s" % (c[:3], c[3:6], c[6:9], c[9:]) if rng.random() < 0.5 else c).encode())
    for _ in range(25):
        vals.append(("%03d-%02d-%04d" % (rng.randint(0, 999), rng.randint(0, 99), rng.randint(0, 9999))).encode())
    for _ in range(60):
        vals.append(rand_str(rng, b"0123456789- .x", 8, 24))
    return vals


def verify_cases():
    return [("verifyCC", r"\d{13,16}"), ("verifyCC", r"(?:\d[ -]?){12,15}\d"), ("verifyCC", r"^\d+$"),
            ("verifyCC", r"\d{4}-\d{4}"), ("verifyCPF", r"\d{3}\.?\d{3}\.?\d{3}-?\d{2}"),
            ("verifyCPF", r"\d{11}"), ("verifyCPF", r"[\d.-]{11,14}"), ("verifySSN", r"\d{3}-?\d{2}-?\d{4}"),
            ("verifySSN", r"\d{9}"), ("verifySSN", r"[0-9 -]{9,11}")]


def unescape_log(s):
    out, i = bytearray(), 0
    while i < len(s):
        if s[i] == "\\" and s[i + 1:i + 2] == "x":
            out.append(int(s[i + 2:i + 4], 16))
            i += 4
        elif s[i] == "\\" and i + 1 < len(s):
            out += s[i + 1].encode("latin-1")
            i += 2
        else:
            out += s[i].encode("latin-1")
            i += 1
    return bytes(out)


def oracle(groups):
    """{(case index, value index): phrase bytes or None} for every match ModSecurity logs."""
    rules, ids = [], {}
    n = 0
    for g, (cases, vals) in enumerate(groups):
        for k, (op, arg) in enumerate(cases):
            rid = 100000 + n
            ids[rid] = (g, k)
            n += 1
            # Each group's rules look only at that group's arguments (ARGS:/^gN_/).
            rules.append('SecRule ARGS:/^g%d_/ "@%s %s" "id:%d,phase:2,pass,log,capture,'
                         't:none,logdata:\'%%{MATCHED_VAR_NAME}=%%{TX.0}\'"'
                         % (g, op, arg, rid))
    snippet = """
LoadModule security2_module %s
SecRuleEngine On
SecRequestBodyAccess On
SecRequestBodyLimit 13107200
SecRequestBodyNoFilesLimit 13107200
SecArgumentsLimit 1000
SecPcreMatchLimit 100000
SecDataDir @ROOT@/data
SecTmpDir @ROOT@/data
%s
""" % (MODSEC_SO, "\n".join(rules))
    srv = Apache(snippet=snippet, load_parapet=False, name="ms2op")
    srv.start()
    try:
        for g, (cases, vals) in enumerate(groups):
            # A value @ipMatch cannot read is an operator error that ends the rule for the
            # values after it ("Rule processing failed"): those values go one per request.
            step = 1 if cases[0][0] == "ipMatch" else PER_REQUEST
            for start in range(0, len(vals), step):
                body = "&".join("g%d_%d=%s" % (g, i, urllib.parse.quote_from_bytes(vals[i], safe=""))
                                for i in range(start, min(start + step, len(vals))))
                resp = srv.request("POST", "/index.html", body=body.encode(),
                                   headers={"Content-Type": "application/x-www-form-urlencoded"})
                if resp.status != 200:
                    raise AssertionError("ModSecurity answered %d" % resp.status)
        time.sleep(0.5)
        log = srv.error_log()
        if os.environ.get("PARAPET_OP_LOG"):
            open(os.environ["PARAPET_OP_LOG"], "w").write(log)
    finally:
        srv.stop()
    if "ModSecurity: Rule" in log and "Failed to" in log:
        raise AssertionError("ModSecurity refused a rule:\n" + log[-2000:])
    found = {}
    for line in log.splitlines():
        m = re.search(r'\[id "(\d+)"\].*\[data "ARGS:g\d+_(\d+)=(.*?)"\] \[', line)
        if m:
            g, k = ids[int(m.group(1))]
            found[(g, k, int(m.group(2)))] = unescape_log(m.group(3))
    return found


def ours(op, arg, vals):
    text = "".join(v.hex() + "\n" for v in vals)
    run = subprocess.run([str(PARAPET), "operator", op, arg, "--hex"], input=text.encode(),
                         capture_output=True)
    if run.returncode != 0:
        raise AssertionError("parapet operator %s %r: %s" % (op, arg, run.stderr.decode()))
    lines = run.stdout.decode().split("\n")[:-1]
    assert len(lines) == len(vals), "%s: %d results for %d values" % (op, len(lines), len(vals))
    return [bytes.fromhex(l[2:]) if l.startswith("1") else None for l in lines]


def test_operators_match_modsecurity():
    if not os.path.exists(MODSEC_SO):
        raise Skip("libapache2-mod-security2 is not installed")
    rng = random.Random(SEED)
    tmp = tempfile.mkdtemp(prefix="parapet-ms2op-")
    try:
        pm_vals = pm_values(rng)
        groups = [
            (string_cases(rng), string_values(rng)),
            (number_cases(rng), number_values(rng)),
            (byte_cases(rng), byte_values(rng)),
            (ip_cases(rng), ip_values(rng)),
            (pm_cases(rng) + [("pmFromFile", f) for f in pmf_files(rng, tmp)]
             + [("pmf", " ".join(pmf_files(rng, tmp)[:2])),
                ("unconditionalMatch", ""), ("noMatch", "")], pm_vals),
            (crs_cases(), crs_values(rng)),
            (rx_cases(), rx_values(rng)),
            (verify_cases(), verify_values(rng)),
        ]
        theirs = oracle(groups)
        differences, compared, matches = [], 0, 0
        for g, (cases, vals) in enumerate(groups):
            for k, (op, arg) in enumerate(cases):
                # The phrase, or for @verify* the candidate that passed (TX:0 with capture).
                phrase_op = op in ("pm", "pmf", "pmFromFile", "verifyCC", "verifyCPF", "verifySSN")
                mine = ours(op, arg, vals)
                for i, v in enumerate(vals):
                    compared += 1
                    t = theirs.get((g, k, i))
                    m = mine[i]
                    if (t is None) != (m is None):
                        differences.append("@%s %r on %r: parapet %s, modsecurity %s" % (
                            op, arg, v, "match" if m is not None else "no match",
                            "match" if t is not None else "no match"))
                    elif m is not None:
                        matches += 1
                        if phrase_op and m != t:
                            differences.append("@%s %r on %r: parapet phrase %r, modsecurity %r"
                                               % (op, arg, v, m, t))
        print("    %d operator cases, %d evaluations (%d matches): %d differences"
              % (sum(len(c) for c, _ in groups), compared, matches, len(differences)))
        if differences:
            raise AssertionError("%d differences:\n  %s" % (len(differences), "\n  ".join(differences[:60])))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


PMF_RULES = """Include @ROOT@/rules/sub/rules.conf
"""
PMF_FILES = {
    "rules/sub/rules.conf":
        'SecRule ARGS "@pmFromFile words.data" "id:2001,phase:2,deny,status:403,log,capture,'
        'logdata:\'%{TX.0}\'"\n'
        'SecRule REMOTE_ADDR "@ipMatchFromFile ../ips.txt" "id:2002,phase:1,pass,log"\n',
    "rules/sub/words.data": "# phrases\nEvilWord\n x \nbad phrase\n",
    "rules/ips.txt": "10.0.0.0/8\n127.0.0.1 # this host\n",
}


def run_pmf(load_parapet):
    if load_parapet:
        snippet = "SecRuleEngine On\n" + PMF_RULES
    else:
        snippet = ("LoadModule security2_module %s\nSecRuleEngine On\nSecRequestBodyAccess On\n"
                   "SecDataDir @ROOT@/data\nSecTmpDir @ROOT@/data\n" % MODSEC_SO) + PMF_RULES
    srv = Apache(snippet=snippet, load_parapet=load_parapet, files=PMF_FILES,
                 name="ms2pmf-" + ("parapet" if load_parapet else "modsec"))
    srv.start()
    try:
        got = [srv.request("GET", "/index.html?q=" + q).status
               for q in ("an+eVILword+here", "x", "bad+phrase", "bad", "hello")]
        time.sleep(0.3)
        log = srv.error_log()
    finally:
        srv.stop()
    data = re.findall(r'\[id "2001"\].*?\[data "([^"]*)"\]', log)
    # The words too: "Matched phrase "EvilWord" at ARGS:q.", "IPmatchFromFile: ... matched at".
    words = re.findall(r'(ModSecurity: .*?) \[file ', log)
    return got, data, len(re.findall(r'\[id "2002"\]', log)), words


def test_phrase_and_address_files_are_relative_to_the_rule_file():
    """A rule file in a subdirectory names its data files relatively, as CRS does: ModSecurity
    reads them from the rule file's directory, and so must Parapet."""
    if not os.path.exists(MODSEC_SO):
        raise Skip("libapache2-mod-security2 is not installed")
    theirs, ours_ = run_pmf(False), run_pmf(True)
    # A one-byte line (" x ") is no phrase in ModSecurity; the phrase is reported as written.
    assert theirs[0] == [403, 200, 403, 200, 200], theirs
    assert theirs[1] == ["EvilWord", "bad phrase"], theirs
    assert theirs[2] == 5, theirs
    assert ours_ == theirs, "parapet %r, modsecurity %r" % (ours_, theirs)


VERIFY_RULES = r"""
SecRule ARGS:cc "@verifyCC \d{13,16}" "id:2101,phase:2,deny,status:403,log,capture,logdata:'%{TX.0}|%{TX.1}'"
SecRule ARGS:cpf "@verifyCPF (\d{3})\.?\d{3}\.?\d{3}-?\d{2}" "id:2102,phase:2,deny,status:403,log,capture,logdata:'%{TX.0}|%{TX.1}'"
SecRule ARGS:ssn "@verifySSN \d{3}-?\d{2}-?\d{4}" "id:2103,phase:2,deny,status:403,log,capture,logdata:'%{TX.0}'"
"""
VERIFY_QUERIES = ("cc=card+14111111111111111+x", "cc=4111111111111112", "cpf=id+529.982.247-25",
                  "cpf=111.111.111-11", "ssn=ssn%3A078-05-1120", "ssn=123-45-6789", "cc=x")


def run_verify(load_parapet):
    if load_parapet:
        snippet = "SecRuleEngine On\n" + VERIFY_RULES
    else:
        snippet = ("LoadModule security2_module %s\nSecRuleEngine On\n"
                   "SecDataDir @ROOT@/data\nSecTmpDir @ROOT@/data\n" % MODSEC_SO) + VERIFY_RULES
    srv = Apache(snippet=snippet, load_parapet=load_parapet,
                 name="ms2verify-" + ("parapet" if load_parapet else "modsec"))
    srv.start()
    try:
        got = [srv.request("GET", "/index.html?" + q).status for q in VERIFY_QUERIES]
        time.sleep(0.3)
        log = srv.error_log()
    finally:
        srv.stop()
    lines = re.findall(r'(ModSecurity: .*?) \[file .*?(\[id "\d+"\]).*?(\[data "[^"]*"\])', log)
    return got, lines


def test_verify_operators_words_match_modsecurity():
    """@verifyCC / @verifyCPF / @verifySSN in rules: status, ModSecurity's words ("CC# match
    PATTERN at VAR. [offset N]") and TX:0/TX:1 with capture (the candidate in both)."""
    if not os.path.exists(MODSEC_SO):
        raise Skip("libapache2-mod-security2 is not installed")
    theirs, ours_ = run_verify(False), run_verify(True)
    # 4111111111111112 fails Luhn at 0 but 1111111111112 (from offset 3) passes.
    assert theirs[0] == [403, 403, 403, 200, 403, 200, 200], theirs
    assert len(theirs[1]) == 4, theirs
    assert ours_ == theirs, "parapet %r, modsecurity %r" % (ours_, theirs)


# Operator arguments that are macro templates (reference §8.1): ModSecurity expands them per
# value for @within @contains @containsWord @streq @beginsWith @endsWith @eq @ge @gt @le @lt,
# and for @rx when the pattern holds "%{" (then escaping the whole expansion, template text
# included); @pm and @strmatch take "%{...}" literally and @detectSQLi ignores its argument.
# TX:arg is set per request from ARGS:arg, and the X-Arg header carries a second text.
MACRO_RULES = r"""
SecAction "id:3000,phase:2,pass,nolog,setvar:'tx.arg=%{ARGS.arg}'"
SecRule ARGS:v "@within %{tx.arg}" "id:3001,phase:2,pass,log,logdata:'%{MATCHED_VAR}'"
SecRule ARGS:v "@contains %{tx.arg}" "id:3002,phase:2,pass,log,logdata:'%{MATCHED_VAR}'"
SecRule ARGS:v "@containsWord %{tx.arg}" "id:3003,phase:2,pass,log,logdata:'%{MATCHED_VAR}'"
SecRule ARGS:v "@streq %{tx.arg}" "id:3004,phase:2,pass,log,logdata:'%{MATCHED_VAR}'"
SecRule ARGS:v "@beginsWith x%{tx.arg}" "id:3005,phase:2,pass,log,logdata:'%{MATCHED_VAR}'"
SecRule ARGS:v "@endsWith %{tx.arg}y" "id:3006,phase:2,pass,log,logdata:'%{MATCHED_VAR}'"
SecRule ARGS:v "@eq %{tx.arg}" "id:3007,phase:2,pass,log,logdata:'%{MATCHED_VAR}'"
SecRule ARGS:v "@ge %{TX.ARG}" "id:3008,phase:2,pass,log,logdata:'%{MATCHED_VAR}'"
SecRule ARGS:v "@gt %{tx.arg}" "id:3009,phase:2,pass,log,logdata:'%{MATCHED_VAR}'"
SecRule ARGS:v "@le %{tx.arg}" "id:3010,phase:2,pass,log,logdata:'%{MATCHED_VAR}'"
SecRule ARGS:v "@lt %{tx.arg}" "id:3011,phase:2,pass,log,logdata:'%{MATCHED_VAR}'"
SecRule ARGS:v "@rx ^%{tx.arg}$" "id:3012,phase:2,pass,log,capture,logdata:'%{MATCHED_VAR}|%{TX.0}'"
SecRule ARGS:v "@rx (%{tx.arg})" "id:3013,phase:2,pass,log,capture,logdata:'%{MATCHED_VAR}|%{TX.0}|%{TX.1}'"
SecRule ARGS:v "@rx a.b%{" "id:3014,phase:2,pass,log,logdata:'%{MATCHED_VAR}'"
SecRule ARGS:v "@pm %{tx.arg}" "id:3015,phase:2,pass,log,capture,logdata:'%{MATCHED_VAR}|%{TX.0}'"
SecRule ARGS:v "@strmatch %{tx.arg}" "id:3016,phase:2,pass,log,logdata:'%{MATCHED_VAR}'"
SecRule ARGS:v "@detectSQLi %{tx.arg}" "id:3017,phase:2,pass,log,capture,logdata:'%{TX.0}'"
SecRule ARGS:v "@streq %{REQUEST_HEADERS.X-Arg}" "id:3018,phase:2,pass,log,logdata:'%{MATCHED_VAR}'"
SecRule ARGS:v "@within |%{tx.arg}|%{request_headers.x-arg}|" "id:3019,phase:2,pass,log,logdata:'%{MATCHED_VAR}'"
SecRule ARGS:v "@contains %{tx.nosuch}" "id:3020,phase:2,pass,log,logdata:'%{MATCHED_VAR}'"
SecRule ARGS:/^m/ "@contains %{tx.arg}" "id:3021,phase:2,pass,log,logdata:'%{MATCHED_VAR_NAME}=%{MATCHED_VAR}'"
SecRule ARGS:a "@rx ." "id:3022,phase:2,pass,log,chain,logdata:'%{MATCHED_VAR}'"
    SecRule ARGS:b "@streq %{MATCHED_VAR}"
SecRule ARGS:/^c/ "@beginsWith %{MATCHED_VAR}" "id:3023,phase:2,pass,log,logdata:'%{MATCHED_VAR_NAME}=%{MATCHED_VAR}'"
SecRule ARGS:d "@eq %{tx.arg}" "id:3024,phase:2,deny,status:403,log,logdata:'%{MATCHED_VAR}'"
"""

# (arg, v, X-Arg, extra arguments): each a request.
MACRO_CASES = [
    ("GET HEAD POST", "GET", "", ""), ("GET HEAD POST", "PUT", "", ""), ("GET HEAD POST", "", "", ""),
    ("GET HEAD POST", "HEAD POST", "", ""), ("abc", "abc", "abc", ""), ("abc", "xabc", "", ""),
    ("abc", "xabcy", "", ""), ("abc", "ABC", "", ""), ("b", "a b c", "", ""), ("b", "abc", "", ""),
    ("", "anything", "", ""), ("", "", "", ""), ("5", "5", "", ""), ("5", "6", "", ""),
    ("5", "4", "", ""), ("5abc", "5", "", ""), ("-3", "-3", "", ""), ("abc", "0", "", ""),
    ("10", "9", "", ""), ("utf-8|iso-8859-1", "utf-8", "", ""),
    ("utf-8|iso-8859-1", "iso-8859-1", "", ""), ("utf-8|iso-8859-1", "utf-8|iso-8859-1", "", ""),
    ("a.b", "a.b", "", ""), ("a.b", "axb", "", ""), ("a+", "aa", "", ""), ("a+", "a+", "", ""),
    ("a*", "aaa", "", ""), ("a*", "a*", "", ""), ("x{2}", "xx", "", ""), ("(x)", "(x)", "", ""),
    ("(x)", "x", "", ""), ("x", "a(x)b", "", ""), ("x", "x", "", ""), ("\\d", "\\d", "", ""), ("\\d", "5", "", ""), ("a:b", "a:b", "", ""),
    ("q?", "q?", "", ""), ("q?", "q", "", ""), ("/p/", "/p/", "", ""), ("[ab]", "[ab]", "", ""),
    ("[ab]", "a", "", ""), ("\xe9t\xe9", "\xe9t\xe9", "", ""), ("a\tb", "a\tb", "", ""),
    ('say "hi"', 'say "hi"', "", ""), ("%{tx.arg}", "%{tx.arg}", "", ""),
    ("x", "zz%{tx.arg}zz", "", ""), ("abc", "a.b%{", "", ""), ("abc", "axb%{", "", ""),
    ("x", "1' or '1'='1", "", ""), ("hdr", "hdr", "hdr", ""), ("one", "two", "two", ""),
    ("one", "one", "two", ""), ("one", "three", "two", ""),
    ("ab", "", "", "m1=xx&m2=xaby&m3=ab&m4=AB&m5=b"),
    ("", "", "", "a=foo&b=foo"), ("", "", "", "a=foo&b=bar"),
    ("", "", "", "c1=ab&c2=abc&c3=ab&c4=b"),
    ("7", "", "", "d=7"), ("7", "", "", "d=8"),
]


def run_macros(load_parapet):
    if load_parapet:
        snippet = "SecRuleEngine On\n" + MACRO_RULES
    else:
        snippet = ("LoadModule security2_module %s\nSecRuleEngine On\nSecDataDir @ROOT@/data\n"
                   "SecTmpDir @ROOT@/data\n" % MODSEC_SO) + MACRO_RULES
    srv = Apache(snippet=snippet, load_parapet=load_parapet,
                 name="ms2macro-" + ("parapet" if load_parapet else "modsec"))
    srv.start()
    statuses = []
    try:
        for k, (arg, v, xarg, extra) in enumerate(MACRO_CASES):
            query = "arg=%s&v=%s" % (urllib.parse.quote(arg.encode("latin-1"), safe=""),
                                     urllib.parse.quote(v.encode("latin-1"), safe=""))
            if extra:
                query += "&" + extra
            headers = {"X-Arg": xarg} if xarg else {}
            statuses.append(srv.request("GET", "/c%d?%s" % (k, query), headers=headers).status)
        time.sleep(0.5)
        log = srv.error_log()
    finally:
        srv.stop()
    hits = {}
    for line in log.splitlines():
        m = re.search(r'\[id "(\d+)"\].*?\[uri "/c(\d+)"\]', line)
        if m:
            data = re.search(r'\[data "((?:[^"\\]|\\.)*)"\]', line)
            # ModSecurity's words per operator, with the argument as expanded (@rx: the pattern
            # as compiled, the escaped expansion).
            words = re.search(r'(ModSecurity: .*?) \[file ', line)
            hits.setdefault(int(m.group(2)), []).append(
                (m.group(1), data.group(1) if data else None, words.group(1) if words else None))
    return statuses, hits, log


def test_operator_arguments_with_macros_match_modsecurity():
    if not os.path.exists(MODSEC_SO):
        raise Skip("libapache2-mod-security2 is not installed")
    ms_status, ms_hits, ms_log = run_macros(False)
    pp_status, pp_hits, _ = run_macros(True)
    if "Failed to" in ms_log or "Syntax error" in ms_log:
        raise AssertionError("ModSecurity refused the rules:\n" + ms_log[-2000:])
    # Every rule matches somewhere in the oracle, so every one is compared on a match.
    seen = {h[0] for hits in ms_hits.values() for h in hits}
    missing = {str(i) for i in range(3001, 3025) if i != 3020} - seen
    assert not missing, "rules ModSecurity never matched: %s" % sorted(missing)
    differences = []
    for k, case in enumerate(MACRO_CASES):
        if ms_status[k] != pp_status[k]:
            differences.append("%r: status modsecurity %d, parapet %d" % (case, ms_status[k], pp_status[k]))
        if ms_hits.get(k, []) != pp_hits.get(k, []):
            differences.append("%r: modsecurity %r, parapet %r" % (case, ms_hits.get(k, []), pp_hits.get(k, [])))
    print("    %d requests, %d ModSecurity log lines compared, %d differences"
          % (len(MACRO_CASES), sum(len(v) for v in ms_hits.values()), len(differences)))
    if differences:
        raise AssertionError("%d differences:\n  %s" % (len(differences), "\n  ".join(differences)))


def test_refused_operator_argument_fails_closed():
    """An expansion the operator cannot take (a pattern starting with a quantifier): ModSecurity
    logs nothing and counts no match (it fails open); Parapet counts a match (fails closed) and
    says why in the error log, once per request and text (docs/operators.md)."""
    if not os.path.exists(MODSEC_SO):
        raise Skip("libapache2-mod-security2 is not installed")
    rules = ('SecRule ARGS:p "@rx ^%{ARGS.q}$" "id:3100,phase:2,deny,status:403,log"\n'
             'SecRule ARGS:n "@rx ^%{ARGS.q}$" "id:3101,phase:2,pass,log"\n')
    got = {}
    for load_parapet in (False, True):
        snippet = "SecRuleEngine On\n" + rules
        if not load_parapet:
            snippet = ("LoadModule security2_module %s\nSecDataDir @ROOT@/data\nSecTmpDir @ROOT@/data\n"
                       % MODSEC_SO) + snippet
        srv = Apache(snippet=snippet, load_parapet=load_parapet,
                     name="ms2macrobad-" + ("parapet" if load_parapet else "modsec"))
        srv.start()
        try:
            statuses = [srv.request("GET", path).status for path in
                        ("/index.html?q=*x&p=abc", "/index.html?q=ab&p=ab", "/index.html?q=*x&n=1&n=2&n=3")]
            time.sleep(0.3)
            log = srv.error_log()
        finally:
            srv.stop()
        got[load_parapet] = (statuses, log)
    (ms_status, ms_log), (pp_status, pp_log) = got[False], got[True]
    assert ms_status == [200, 403, 200], ms_status
    assert '[id "3101"]' not in ms_log and '[id "3100"]' in ms_log, ms_log[-2000:]
    assert pp_status == [403, 403, 200], pp_status
    refused = [l for l in pp_log.splitlines() if "expands to" in l]
    # /a: rule 3100 once; /c: rule 3101 once for three values (the refusal is remembered).
    assert len(refused) == 2, "\n".join(refused) or pp_log[-2000:]
    assert all('"^%{ARGS.q}$" expands to "^*x$"' in l and "fail closed" in l for l in refused), refused
    assert len(re.findall(r'Warning\..*\[id "3101"\]', pp_log)) == 3, pp_log[-2000:]
