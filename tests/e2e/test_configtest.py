"""`apache2 -t` says what a start would say. Apache's configuration test reads the directives
and runs the check_config hooks, never post_config, where Parapet finishes its configurations;
so what pp_cfg_finish refuses about the directives themselves (a chain left open) is checked
in check_config too (pp_cfg_validate). A test only validates: its patterns are compiled but
not JIT-compiled (util/regex.c pp_regex_validate_only), and a bad one is still refused with
its file and line, also after the whole Core Rule Set.
"""
import os
import re

from harness import Apache, Skip, StartError

CRS_RULES = "/usr/share/modsecurity-crs/rules/*.conf"
CRS_SETUP = "/etc/modsecurity/crs/crs-setup.conf"


def expect(cond, message):
    if not cond:
        raise AssertionError(message)


def line_of(srv, text):
    return 1 + srv.conf.read_text().splitlines().index(text)


def test_open_chain_fails_configtest_and_start():
    last = 'SecRule ARGS "@rx foo" "id:1,phase:2,deny,chain"'
    srv = Apache("SecRuleEngine On\n" + last + "\n", name="openchain")
    try:
        conf = srv.prepare()
        where = "%s:%d" % (conf, line_of(srv, last))
        rc, out = srv.configtest()
        expect(rc != 0, "apache2 -t accepted a rule whose chain never continues:\n%s" % out)
        expect(re.search(re.escape(where) + r": asks for a chain but no rule follows it", out)
               or (where in out and "asks for a chain but no rule follows it" in out),
               "apache2 -t does not name %s and the reason:\n%s" % (where, out))
        try:
            srv.start()
            started = True
        except StartError as e:
            started = False
            expect("asks for a chain but no rule follows it" in str(e),
                   "start refused for another reason:\n%s" % e)
        expect(not started, "Apache started with a chain left open")
    finally:
        srv.stop()
        srv.cleanup_files()


def test_bad_regex_after_crs_fails_configtest():
    if not os.path.exists(CRS_SETUP):
        raise Skip("modsecurity-crs is not installed")
    bad = 'SecRule ARGS "@rx (unclosed" "id:1000001,phase:2,deny"'
    snippet = ("SecRuleEngine On\nInclude %s\nInclude %s\n%s\n" % (CRS_SETUP, CRS_RULES, bad))
    srv = Apache(snippet, name="crsbadrx")
    try:
        conf = srv.prepare()
        line = line_of(srv, bad)
        rc, out = srv.configtest()
        expect(rc != 0, "apache2 -t accepted a bad regex after CRS:\n%s" % out)
        expect(str(conf) in out and re.search(r"\bline %d\b" % line, out)
               and "missing closing parenthesis" in out,
               "apache2 -t does not name %s line %d and PCRE2's reason:\n%s" % (conf, line, out))
        # Without the bad rule the same configuration starts (first, so that the port chosen
        # is bound at once) and its test says Syntax OK.
        srv2 = Apache(snippet.replace(bad + "\n", ""), name="crsok")
        try:
            srv2.start()
            rc, out = srv2.configtest()
            expect(rc == 0 and "Syntax OK" in out, "apache2 -t refused CRS:\n%s" % out)
            resp = srv2.request("GET", "/?q=%3Cscript%3Ealert(1)%3C/script%3E")
            expect(resp.status == 403, "CRS did not block an XSS after the test: %d" % resp.status)
        finally:
            srv2.stop()
            srv2.cleanup_files()
    finally:
        srv.cleanup_files()
