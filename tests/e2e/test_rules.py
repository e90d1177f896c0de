"""The 1.9 rule language end to end, through a real Apache (reference §2–§8).

tests/eval covers the rule semantics against the engine alone; this file covers what only
Apache can provide or apply: variables that come from the request_rec (REMOTE_ADDR, SERVER_*,
SCRIPT_* on a real CGI file, PATH_INFO, AUTH_TYPE / REMOTE_USER from mod_auth_basic, ENV_x from
SetEnv / SetEnvIf), the effects of actions outside the engine (status, Location, env vars seen
by the CGI, notes and env seen by CustomLog, pause, exec, mod_proxy, the error-log line, the
mod_security-message request header), and every directive in a real per-directory merge.

Table-driven: SECTIONS holds (configuration, cases). All configurations go into ONE Apache:
server-level rules are keyed on their own path with a `REQUEST_URI ... chain` first member
(see probe()), directory-level settings live in their own <Location /L/NAME>, where
/L/NAME/cgi is the echo CGI and any other /L/NAME/... path is a static page. Each case sends
one request, then checks the status and, optionally, the CGI's JSON, response headers, the
error-log lines the request produced, other log files, and the elapsed time. Every case
becomes one test_* function, so run.py reports each on its own line.
"""
import base64
import hashlib
import http.client
import os
import pwd
import time
from pathlib import Path

from harness import DEFAULT_MODULES, Group, Response, wait_for

HERE = Path(__file__).resolve().parent
ENV_CGI = HERE / "cgi" / "env.py"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
JSON_TYPE = {"Content-Type": "application/json"}
OCTETS = {"Content-Type": "application/octet-stream"}
ATTACK = "parapet-attack"           # denied anywhere by the server-level SecFilter below
YEAR = time.localtime().tm_year
# harness.py copies echo.py as the user running the tests and makes it 0755.
SCRIPT_UID = os.geteuid()
SCRIPT_USER = pwd.getpwuid(SCRIPT_UID).pw_name


def basic(user, password):
    token = base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
    return {"Authorization": "Basic " + token}


def htpasswd_line(user, password):
    digest = base64.b64encode(hashlib.sha1(password.encode()).digest()).decode()
    return "%s:{SHA}%s\n" % (user, digest)


# ---- configuration helpers -------------------------------------------------------------------

def key(name, actions="chain"):
    """First chain member: the rule only concerns /cgi-bin/{echo,env}.py/NAME[/...|?...]."""
    return ('SecFilterSelective REQUEST_URI "^/cgi-bin/[a-z]+\\.py/%s(/|\\?|$)" "%s"\n'
            % (name, actions))


def probe(name, var, pattern, actions="deny,log,status:403"):
    """A rule on VAR ~ PATTERN that only fires on the case's own path."""
    return key(name) + 'SecFilterSelective %s "%s" "%s"\n' % (var, pattern, actions)


def location(name, body):
    """<Location /L/NAME>; /L/NAME/cgi is the echo CGI (ScriptAliasMatch in BASE)."""
    return "<Location /L/%s>\n%s</Location>\n" % (name, "".join("    %s\n" % l for l in
                                                                  body.strip().splitlines()))


def cgi(name):
    return "/cgi-bin/echo.py/" + name


def env_cgi(name):
    return "/cgi-bin/env.py/" + name


# ---- expectations ------------------------------------------------------------------------------

class Has:
    """Expected value: contains this substring."""

    def __init__(self, text):
        self.text = text

    def ok(self, value):
        return isinstance(value, str) and self.text in value

    def __repr__(self):
        return "Has(%r)" % self.text


ABSENT = object()


def matches(expected, value):
    if expected is ABSENT:
        return value is ABSENT or value is None
    if isinstance(expected, Has):
        return expected.ok(value)
    if callable(expected):
        return expected(value)
    return expected == value


class Case:
    """One request and what it must produce.

    status      expected response status
    json        {"a.b": expected} looked up in the CGI's JSON answer (dotted path)
    headers_out {name: expected} response headers (ABSENT: must not be there)
    log         substrings that must all appear in the mod_security lines the request produced
    nolog       True: the request produced no mod_security line at all
    files       {relative path: [(substring, present?)]} checked once the request is logged
    min_seconds the response took at least this long
    check       fn(srv, resp, ctx) for anything else (ctx: "log", "elapsed")
    Strings may contain @PORT@ / @ROOT@.
    """

    def __init__(self, name, path, status=200, method="GET", headers=None, body=None,
                 json=None, headers_out=None, log=(), nolog=False, files=None,
                 min_seconds=None, check=None):
        self.name = name
        self.path = path
        self.status = status
        self.method = method
        self.headers = headers or {}
        self.body = body
        self.json = json or {}
        self.headers_out = headers_out or {}
        self.log = log
        self.nolog = nolog
        self.files = files or {}
        self.min_seconds = min_seconds
        self.check = check


# ---- the table ---------------------------------------------------------------------------------

BASE = """
SecFilterEngine On
SecFilterScanPOST On
SecFilterDefaultAction "deny,log,status:403"
SecFilterDebugLog "@ROOT@/logs/debug.log"
SecFilterDebugLevel 0
SecUploadDir "@ROOT@/data"
SecFilter "%s" "id:9000"
# Notes and the relevance env var as CustomLog sees them (reference §1.3, §8.2).
# notes.log is unconditional and last: once it has a request, every log has it.
CustomLog "@ROOT@/logs/relevant.log" "%%r|%%{mod_security-message}i" env=mod_security-relevant
CustomLog "@ROOT@/logs/notes.log" "%%r|%%{parapet-note}n|%%{mod_security-action}i"
# /L/NAME/cgi runs the echo CGI; any other /L/... path is a static page.
ScriptAliasMatch "^/L/(.+)/cgi$" "@ROOT@/cgi-bin/echo.py"
AliasMatch "^/L/" "@ROOT@/htdocs/index.html"
""" % ATTACK

SECTIONS = []


def section(title, conf, *cases):
    SECTIONS.append((title, conf, list(cases)))


# -- directives ----------------------------------------------------------------------------------

section("engine", location("eng-off", "SecFilterEngine Off")
        + location("eng-off/on", "SecFilterEngine On")
        + location("dyn", "SecFilterEngine DynamicOnly"),
        Case("engine_on_server_level", "/index.html?q=" + ATTACK, 403,
             log=["mod_security: Access denied with code 403.", '[id "9000"]',
                  'Pattern match "%s" at THE_REQUEST' % ATTACK]),
        Case("engine_off_in_location", "/L/eng-off/x?q=" + ATTACK, 200, nolog=True),
        Case("engine_on_in_nested_location", "/L/eng-off/on/x?q=" + ATTACK, 403),
        Case("engine_dynamic_only_static_passes", "/L/dyn/page.html?q=" + ATTACK, 200,
             nolog=True),
        Case("engine_dynamic_only_cgi_inspected", "/L/dyn/cgi?q=" + ATTACK, 403))

section("scanpost", location("noscan", """
SecFilterScanPOST Off
SecFilterSelective POST_PAYLOAD "." "deny,log,status:412,id:1101"
"""),
        Case("scanpost_on_body_inspected", cgi("scanpost"), 403, method="POST",
             headers=FORM, body="a=1&b=" + ATTACK, log=["at POST_PAYLOAD"]),
        Case("scanpost_off_body_not_inspected", "/L/noscan/cgi", 200, method="POST",
             headers=FORM, body="a=1&b=" + ATTACK,
             json={"body": "a=1&b=" + ATTACK, "method": "POST"}, nolog=True))

section("output", location("out", """
SecFilterScanOutput On
SecFilterOutputMimeTypes "text/plain (null)"
SecFilterSelective ARG_allowme "^1$" "allow,log,id:1203"
SecFilterSelective OUTPUT "parapet-leak" "deny,log,status:403,id:1201"
SecFilterSelective OUTPUT_STATUS "^203$" "deny,log,status:409,id:1202"
"""),
        Case("output_scanned_type_denied", "/L/out/cgi?type=text/plain&say=parapet-leak", 403,
             log=['[id "1201"]', "at OUTPUT"],
             check=lambda srv, resp, ctx: expect(b"parapet-leak" not in resp.body,
                                                 "held body leaked: %r" % resp.body[:200])),
        Case("output_clean_scanned_type_passes", "/L/out/cgi?type=text/plain&say=harmless",
             200, json={"say": "harmless"}, nolog=True),
        Case("output_type_not_listed_streams", "/L/out/cgi?say=parapet-leak", 200,
             json={"say": "parapet-leak"}, nolog=True),
        Case("output_status_variable", "/L/out/cgi?type=text/plain&status=203", 409,
             log=['[id "1202"]', "at OUTPUT_STATUS"]),
        Case("output_rules_run_after_allow",
             "/L/out/cgi?allowme=1&type=text/plain&say=parapet-leak", 403,
             log=["Access allowed.", '[id "1203"]', '[id "1201"]']))

section("default_action", location("defact", """
SecFilterDefaultAction "deny,log,status:412"
SecFilterCheckURLEncoding On
SecFilter "defact-word"
SecFilter "defact-own" "id:1301"
"""),
        Case("default_action_rule_without_actions", "/L/defact/x?q=defact-word", 412,
             log=["Access denied with code 412."]),
        Case("default_action_merged_under_own_list", "/L/defact/x?q=defact-own", 412,
             log=['[id "1301"]']),
        Case("default_action_for_implicit_check", "/L/defact/x?q=%zz", 412,
             log=["Invalid URL encoding"]),
        # Parapet's reading of §2.2: a rule binds to the default that precedes it in its own
        # context, so the server-level rule keeps the server's 403 inside /L/defact.
        Case("default_action_parent_rule_keeps_its_binding", "/L/defact/x?q=" + ATTACK, 403))

section("signature_action", location("sigact", """
SecFilterSignatureAction "deny,log,status:409,severity:2"
SecFilter "sig-word" "id:1401"
SecFilter "plain-word"
"""),
        Case("signature_action_under_own_list", "/L/sigact/x?q=sig-word", 409,
             log=['[id "1401"]', '[severity "CRITICAL"]']),
        Case("signature_action_not_for_rules_without_list", "/L/sigact/x?q=plain-word", 403,
             log=["Access denied with code 403."],
             check=lambda srv, resp, ctx: expect("[severity" not in ctx["log"],
                                                 "signature metadata on a rule without actions")))

section("actions_restricted", location("restricted", """
SecFilterActionsRestricted On
SecFilter "restricted-word" "pass,status:200,id:1501,msg:'imported rule'"
"""),
        Case("actions_restricted_keeps_metadata_only", "/L/restricted/x?q=restricted-word",
             403, log=['[id "1501"]', '[msg "imported rule"]', "Access denied with code 403."]))

section("inheritance", """
SecFilter "inh-word-a" "id:9001"
SecFilter "inh-word-b" "id:9002"
SecFilter "mand-action-word" "mandatory,id:9003"
""" + location("noinh", "SecFilterInheritance Off")
    + location("import", "SecFilterInheritance Off\nSecFilterImport 9001")
    + location("remove", "SecFilterRemove 9002")
    + location("mand", """
SecFilter "mand-plain-word" "id:9101"
SecFilterInheritanceMandatory On
SecFilter "mand-word" "id:9102"
""")
    + location("mand/child", "SecFilterInheritance Off")
    + location("mand/rm", "SecFilterRemove 9102 9101")
    + location("nest", 'SecFilter "nest-word" "id:9201"')
    # Nested sections holding a Parapet directive that has nothing to do with rules.
    + location("nest/inner", "SecFilterScanPOST On")
    + location("nest/plain", "SetEnv PARAPET_NESTED 1")
    + location("import/sub", "SecFilterScanPOST On")
    + location("remove/sub", "SecFilterScanPOST On")
    + location("mand/child/deeper", "SecFilterScanPOST On"),
        Case("inheritance_on_by_default", "/L/remove/x?q=inh-word-a", 403),
        Case("inheritance_off_drops_parent_rules", "/L/noinh/x?q=inh-word-a", 200, nolog=True),
        Case("inheritance_off_drops_parent_attack_rule", "/L/noinh/x?q=" + ATTACK, 200),
        Case("inheritance_off_keeps_mandatory_action_rule", "/L/noinh/x?q=mand-action-word",
             403, log=['[id "9003"]']),
        Case("import_takes_listed_rule_back", "/L/import/x?q=inh-word-a", 403,
             log=['[id "9001"]']),
        Case("import_only_listed_rules", "/L/import/x?q=inh-word-b", 200),
        Case("remove_drops_listed_rule", "/L/remove/x?q=inh-word-b", 200, nolog=True),
        Case("mandatory_rules_apply_in_parent", "/L/mand/x?q=mand-plain-word", 403),
        Case("mandatory_inherited_despite_inheritance_off", "/L/mand/child/x?q=mand-word", 403,
             log=['[id "9102"]']),
        Case("non_mandatory_not_inherited_with_inheritance_off",
             "/L/mand/child/x?q=mand-plain-word", 200),
        Case("mandatory_rule_cannot_be_removed", "/L/mand/rm/x?q=mand-word", 403),
        Case("non_mandatory_rule_removed", "/L/mand/rm/x?q=mand-plain-word", 200),
        # Apache merges nested <Location>s with each other before merging the result onto
        # the server/<Directory> configuration: rules must survive that order too.
        Case("nested_location_keeps_outer_rules", "/L/nest/inner/x?q=nest-word", 403),
        Case("nested_location_outer_rules_apply", "/L/nest/x?q=nest-word", 403),
        Case("nested_location_without_parapet_directives", "/L/nest/plain/x?q=nest-word", 403),
        Case("nested_location_keeps_server_rules", "/L/nest/inner/x?q=" + ATTACK, 403),
        Case("nested_location_keeps_import", "/L/import/sub/x?q=inh-word-a", 403),
        Case("nested_location_keeps_inheritance_off", "/L/import/sub/x?q=inh-word-b", 200),
        Case("nested_location_keeps_remove", "/L/remove/sub/x?q=inh-word-b", 200),
        Case("nested_location_keeps_mandatory", "/L/mand/child/deeper/x?q=mand-word", 403))

section("implicit_checks", location("urlenc", "SecFilterCheckURLEncoding On")
        + location("unicode", "SecFilterCheckUnicodeEncoding On")
        + location("byterange", "SecFilterForceByteRange 32 126")
        + location("cookiefmt", "SecFilterCheckCookieFormat On")
        + location("cookiev1", 'SecFilterCookieFormat 1\nSecFilterSelective COOKIE_sid "^abc$"')
        + location("normcookie", 'SecFilterNormalizeCookies On\n'
                                 'SecFilterSelective COOKIES_VALUES "<script"')
        + location("rawcookie", 'SecFilterSelective COOKIES_VALUES "<script"')
        + location("charset", 'SecCharset "UTF-8"'),
        Case("check_url_encoding_rejects", "/L/urlenc/x?q=%zz", 403,
             log=["Invalid URL encoding"]),
        Case("check_url_encoding_rejects_body", "/L/urlenc/cgi", 403, method="POST",
             headers=FORM, body="q=%G1"),
        Case("check_url_encoding_passes_valid", "/L/urlenc/x?q=%41%2f", 200),
        Case("check_unicode_rejects_overlong", "/L/unicode/x?q=%c0%af", 403,
             log=["Invalid Unicode encoding"]),
        Case("check_unicode_passes_utf8", "/L/unicode/x?q=%c3%a9t%c3%a9", 200),
        Case("force_byte_range_rejects", "/L/byterange/x?q=a%01b", 403,
             log=["Invalid character detected"]),
        Case("force_byte_range_passes", "/L/byterange/x?q=hello+world", 200),
        Case("check_cookie_format_rejects", "/L/cookiefmt/x", 403,
             headers={"Cookie": "=novalue"}, log=["Invalid cookie format"]),
        Case("check_cookie_format_passes", "/L/cookiefmt/x", 200, headers={"Cookie": "a=b"}),
        Case("cookie_format_1_version_1_cookie", "/L/cookiev1/x", 403,
             headers={"Cookie": '$Version="1"; sid="abc"; $Path="/"'}),
        Case("normalize_cookies_on_decodes", "/L/normcookie/x", 403,
             headers={"Cookie": "c=%3Cscript%3E"}),
        Case("normalize_cookies_off_raw", "/L/rawcookie/x", 200,
             headers={"Cookie": "c=%3Cscript%3E"}),
        Case("charset_accepted", "/L/charset/x?q=%c3%a9", 200))


def debug_log_has_unique_id(present):
    def check(srv, resp, ctx):
        uid = resp.json()["unique_id"]
        expect(uid, "no UNIQUE_ID from the CGI")

        def seen():
            try:
                return uid in srv.path("logs/debug.log").read_text(errors="replace")
            except OSError:
                return False
        if present:
            expect(wait_for(seen, timeout=3), "unique id %s not in the debug log" % uid)
            lines = [l for l in srv.path("logs/debug.log").read_text().splitlines() if uid in l]
            print("    %d debug lines for %s, e.g. %s" % (len(lines), uid, lines[0][:160]))
        else:
            expect(not seen(), "unique id %s in the debug log at level 0" % uid)
    return check


section("debug_log", location("dbg", "SecFilterDebugLevel 9"),
        Case("debug_log_lines_carry_unique_id", "/L/dbg/cgi?x=1", 200,
             check=debug_log_has_unique_id(True)),
        Case("debug_level_0_writes_nothing", cgi("nodebug"), 200,
             check=debug_log_has_unique_id(False)))


def body_intact(body):
    digest = hashlib.sha256(body).hexdigest()
    return lambda srv, resp, ctx: expect(resp.json()["body_sha256"] == digest,
                                         "body reached the CGI altered")


BIG_OCTETS = os.urandom(200 * 1024)
BIG_FORM_ATTACK = ("a=" + "x" * 5000 + "&b=" + ATTACK).encode()
BIG_FORM = ("a=" + "x" * 5000 + "&b=benign").encode()
section("upload_in_memory_limit", location("inmem", "SecUploadInMemoryLimit 1024"),
        Case("in_memory_limit_raw_body_spills_and_replays", "/L/inmem/cgi", 200,
             method="POST", headers=OCTETS, body=BIG_OCTETS, check=body_intact(BIG_OCTETS)),
        Case("in_memory_limit_form_body_replayed", "/L/inmem/cgi", 200, method="POST",
             headers=FORM, body=BIG_FORM, check=body_intact(BIG_FORM)),
        Case("in_memory_limit_form_body_still_inspected", "/L/inmem/cgi", 403,
             method="POST", headers=FORM, body=BIG_FORM_ATTACK))

# -- variables that Apache provides ---------------------------------------------------------------

section("variables", """
SetEnvIf User-Agent "parapet-evilbot" PARAPET_BOT=yes
SecFilterSelective ENV_PARAPET_TIER "^gold$" "deny,log,status:403,id:2120"
""" + probe("remote-addr", "REMOTE_ADDR", r"^127\.0\.0\.1$", "deny,log,status:403,id:2101")
    + probe("server-name", "SERVER_NAME", r"^parapet-e2e\.test$", "deny,log,status:403,id:2102")
    + probe("server-port", "SERVER_PORT", "^@PORT@$", "deny,log,status:403,id:2103")
    + probe("script-filename", "SCRIPT_FILENAME", r"^@ROOT@/cgi-bin/echo\.py$",
            "deny,log,status:403,id:2104")
    + probe("request-filename", "REQUEST_FILENAME", r"^@ROOT@/cgi-bin/echo\.py$",
            "deny,log,status:403,id:2105")
    + probe("script-basename", "SCRIPT_BASENAME", r"^echo\.py$", "deny,log,status:403,id:2106")
    + probe("script-mode", "SCRIPT_MODE", "^0755$", "deny,log,status:403,id:2107")
    + probe("script-uid", "SCRIPT_UID", "^%d$" % SCRIPT_UID, "deny,log,status:403,id:2108")
    + probe("script-username", "SCRIPT_USERNAME", "^%s$" % SCRIPT_USER,
            "deny,log,status:403,id:2109")
    + probe("path-info", "PATH_INFO", "^/path-info/extra$", "deny,log,status:403,id:2110")
    + probe("env-setenvif", "ENV_PARAPET_BOT", "^yes$", "deny,log,status:403,id:2111")
    + probe("http-header", "HTTP_X_PARAPET_PROBE", "attack-header",
            "deny,log,status:403,id:2112")
    + probe("cookie", "COOKIE_session", "[^0-9a-f]", "deny,log,status:403,id:2113")
    + probe("arg-post", "ARG_cmd", "rm -rf", "deny,log,status:403,id:2114")
    + probe("post-payload", "POST_PAYLOAD", r"\$where", "deny,log,status:403,id:2115")
    + probe("time-year", "TIME_YEAR", "^(%d|%d)$" % (YEAR, YEAR + 1),
            "deny,log,status:403,id:2116")
    + location("setenv", "SetEnv PARAPET_TIER gold")
    + location("auth", """
AuthType Basic
AuthName "parapet e2e"
AuthBasicProvider file
AuthUserFile "@ROOT@/auth/htpasswd"
Require valid-user
SecFilterSelective REMOTE_USER "^mallory$" "deny,log,status:403,id:2130"
SecFilterSelective AUTH_TYPE "^Basic$" chain
SecFilterSelective ARG_probe "^auth-type$" "deny,log,status:409,id:2131"
"""),
        Case("var_remote_addr", cgi("remote-addr"), 403,
             log=['[id "2101"]', "at REMOTE_ADDR"]),
        Case("var_server_name", cgi("server-name"), 403,
             headers={"Host": "parapet-e2e.test"}, log=['[id "2102"]', "at SERVER_NAME"]),
        Case("var_server_name_other_host", cgi("server-name"), 200,
             headers={"Host": "other.test"}),
        Case("var_server_port", cgi("server-port"), 403, log=['[id "2103"]']),
        Case("var_script_filename", cgi("script-filename"), 403, log=['[id "2104"]']),
        Case("var_request_filename", cgi("request-filename"), 403, log=['[id "2105"]']),
        Case("var_script_basename", cgi("script-basename"), 403, log=['[id "2106"]']),
        Case("var_script_mode", cgi("script-mode"), 403, log=['[id "2107"]']),
        Case("var_script_uid", cgi("script-uid"), 403, log=['[id "2108"]']),
        Case("var_script_username", cgi("script-username"), 403, log=['[id "2109"]']),
        Case("var_path_info", cgi("path-info/extra"), 403, log=['[id "2110"]']),
        Case("var_path_info_other", cgi("path-info/other"), 200,
             json={"path_info": "/path-info/other"}),
        Case("var_auth_no_credentials", "/L/auth/cgi", 401),
        Case("var_remote_user_allowed", "/L/auth/cgi", 200,
             headers=basic("alice", "alice-pw")),
        Case("var_remote_user_denied", "/L/auth/cgi", 403,
             headers=basic("mallory", "mallory-pw"), log=['[id "2130"]', "at REMOTE_USER"]),
        Case("var_auth_type", "/L/auth/cgi?probe=auth-type", 409,
             headers=basic("alice", "alice-pw"), log=['[id "2131"]']),
        Case("var_env_from_setenv", "/L/setenv/x", 403, log=['[id "2120"]']),
        Case("var_env_without_setenv", "/L/noenv/x", 200),
        Case("var_env_from_setenvif", cgi("env-setenvif"), 403,
             headers={"User-Agent": "parapet-evilbot/1.0"}, log=['[id "2111"]']),
        Case("var_env_setenvif_not_triggered", cgi("env-setenvif"), 200,
             headers={"User-Agent": "curl/8"}),
        Case("var_http_header", cgi("http-header"), 403,
             headers={"X-Parapet-Probe": "an attack-header value"},
             log=['[id "2112"]', 'HEADER("X-PARAPET-PROBE")']),
        Case("var_cookie", cgi("cookie"), 403, headers={"Cookie": "theme=x; session=abc'or"},
             log=['[id "2113"]', 'COOKIE("session")']),
        Case("var_cookie_clean", cgi("cookie"), 200, headers={"Cookie": "session=abc123"}),
        Case("var_arg_from_post_body", cgi("arg-post"), 403, method="POST", headers=FORM,
             body="x=1&cmd=rm+-rf+%2F", log=['[id "2114"]', 'ARG("cmd")']),
        Case("var_arg_other_argument", cgi("arg-post"), 200, method="POST", headers=FORM,
             body="cmd=ls&x=rm+-rf", json={"body": "cmd=ls&x=rm+-rf"}),
        Case("var_post_payload", cgi("post-payload"), 403, method="POST", headers=JSON_TYPE,
             body='{"$where": "sleep(1)"}', log=['[id "2115"]', "at POST_PAYLOAD"]),
        Case("var_post_payload_benign", cgi("post-payload"), 200, method="POST",
             headers=JSON_TYPE, body='{"name": "x"}', json={"body": '{"name": "x"}'}),
        Case("var_time_year", cgi("time-year"), 403, log=['[id "2116"]']))


# -- actions whose effect is visible outside the engine ---------------------------------------------

def unique_id_in_log(srv, resp, ctx):
    uid = resp.json()["unique_id"]
    expect(uid and '[unique_id "%s"]' % uid in ctx["log"],
           "error log line lacks [unique_id \"%s\"]:\n%s" % (uid, ctx["log"]))


def exec_file_has(line):
    def check(srv, resp, ctx):
        path = srv.path("data/exec.log")
        got = wait_for(lambda: path.exists() and line in path.read_text(), timeout=5)
        expect(got, "exec hook did not write %r (file: %r)"
               % (line, path.read_text() if path.exists() else None))
    return check


EXEC_HOOK = """#!/bin/sh
# Written by tests/e2e/test_rules.py: the exec action's program (no arguments, CGI-like env).
echo "$REMOTE_ADDR $MODSEC_RULE_ID" >> "$(dirname "$0")/../data/exec.log"
"""

section("actions",
        probe("deny-status", "REMOTE_ADDR", ".", "deny,log,status:406,id:3101")
        + probe("redirect", "REMOTE_ADDR", ".",
                "redirect:http://127.0.0.1:@PORT@/index.html?from=redirect,id:3102")
        + key("allow", "allow,id:3103")
        + key("allow", "deny,log,status:403,id:3104")
        + probe("pass-log", "REMOTE_ADDR", ".", "pass,log,id:3105,msg:'pass and log'")
        + probe("pass-nolog", "REMOTE_ADDR", ".", "pass,nolog,id:3106")
        + probe("deny-nolog", "REMOTE_ADDR", ".", "deny,nolog,status:403,id:3107")
        + probe("setenv", "REMOTE_ADDR", ".", "pass,nolog,setenv:PARAPET_FLAG=raised")
        + probe("setnote", "REMOTE_ADDR", ".", "pass,nolog,setnote:parapet-note=noted")
        + probe("pause", "REMOTE_ADDR", ".", "pass,nolog,pause:500")
        + probe("exec", "REMOTE_ADDR", ".", "pass,nolog,exec:@ROOT@/bin/hook.sh,id:3110")
        + key("chain", "chain,deny,status:401")
        + 'SecFilterSelective REQUEST_METHOD "^POST$" chain\n'
        + 'SecFilterSelective ARG_cmd "rm" "deny,log,status:409,id:3111"\n'
        + key("skipnext", "pass,nolog,skipnext:1")
        + key("skipnext", "deny,log,status:401,id:3112")
        + key("skipnext", "deny,log,status:409,id:3113")
        + probe("metadata", "REMOTE_ADDR", ".",
                "deny,log,status:403,id:3114,rev:7,msg:'metadata check',severity:2")
        + probe("proxy", "REMOTE_ADDR", ".",
                "proxy:http://127.0.0.1:@PORT@/cgi-bin/echo.py/proxied?via=proxy,id:3115"),
        Case("action_deny_status", cgi("deny-status"), 406,
             log=["Access denied with code 406.", '[id "3101"]']),
        Case("action_redirect", cgi("redirect"), 302,
             headers_out={"Location": "http://127.0.0.1:@PORT@/index.html?from=redirect"},
             log=["Access denied with redirect to [http://127.0.0.1:@PORT@/index.html"]),
        Case("action_allow_skips_later_rules", cgi("allow"), 200,
             log=["Access allowed.", '[id "3103"]'],
             check=lambda srv, resp, ctx: expect('[id "3104"]' not in ctx["log"],
                                                 "rule after allow ran")),
        Case("action_pass_log", cgi("pass-log"), 200,
             log=["mod_security: Warning.", '[id "3105"]', '[msg "pass and log"]'],
             files={"logs/relevant.log": [
                 ("GET /cgi-bin/echo.py/pass-log HTTP/1.1|Warning. Pattern match", True)]},
             check=unique_id_in_log),
        # 1.9 handed the message to the application as a request header (reference §8.5),
        # which a CGI sees as HTTP_MOD_SECURITY_MESSAGE.
        Case("action_message_header_seen_by_cgi", cgi("pass-log"), 200,
             json={"headers.mod-security-message": Has('Warning. Pattern match "." at '
                                                       'REMOTE_ADDR. [id "3105"]')}),
        Case("action_pass_nolog", cgi("pass-nolog"), 200, nolog=True,
             json={"headers.mod-security-message": ABSENT},
             files={"logs/relevant.log": [("/cgi-bin/echo.py/pass-nolog", False)]}),
        Case("action_no_match_not_relevant", cgi("nothing-matches"), 200, nolog=True,
             files={"logs/relevant.log": [("/cgi-bin/echo.py/nothing-matches", False)]}),
        Case("action_deny_nolog", cgi("deny-nolog"), 403, nolog=True),
        Case("action_header_in_customlog", cgi("deny-status"), 406,
             files={"logs/notes.log": [("GET /cgi-bin/echo.py/deny-status HTTP/1.1|-|406",
                                        True)]}),
        Case("action_setenv_seen_by_cgi", env_cgi("setenv"), 200,
             json={"env.PARAPET_FLAG": "raised"}),
        Case("action_setnote_seen_by_customlog", cgi("setnote"), 200,
             files={"logs/notes.log": [("GET /cgi-bin/echo.py/setnote HTTP/1.1|noted", True)]}),
        Case("action_pause", cgi("pause"), 200, min_seconds=0.5),
        Case("action_exec", cgi("exec"), 200, check=exec_file_has("127.0.0.1 3110")),
        Case("action_chain_all_match_last_actions_run", cgi("chain"), 409, method="POST",
             headers=FORM, body="cmd=rm", log=['[id "3111"]']),
        Case("action_chain_member_fails", cgi("chain") + "?cmd=rm", 200, nolog=True),
        Case("action_skipnext", cgi("skipnext"), 409,
             log=['[id "3113"]'],
             check=lambda srv, resp, ctx: expect('[id "3112"]' not in ctx["log"],
                                                 "skipped rule ran")),
        Case("action_metadata_in_error_log", cgi("metadata"), 403,
             log=['[id "3114"]', '[rev "7"]', '[msg "metadata check"]',
                  '[severity "CRITICAL"]', '[hostname "127.0.0.1"]',
                  '[uri "/cgi-bin/echo.py/metadata"]']),
        Case("action_proxy", cgi("proxy"), 200,
             json={"path_info": "/proxied", "query": "via=proxy"}, log=['[id "3115"]']))

MODULES = DEFAULT_MODULES + ("auth_basic", "authn_core", "authn_file", "authz_user",
                             "proxy", "proxy_http")
FILES = {
    "auth/htpasswd": htpasswd_line("alice", "alice-pw") + htpasswd_line("mallory", "mallory-pw"),
    "bin/hook.sh": EXEC_HOOK,
    "cgi-bin/env.py": ENV_CGI.read_text(),
}


class RulesGroup(Group):
    """The harness writes extra files without modes; the CGI and the hook must be executable
    before Apache reads the configuration (exec: checks its program then)."""

    def create(self):
        srv = super().create()
        srv.prepare()
        for rel in ("bin/hook.sh", "cgi-bin/env.py"):
            os.chmod(srv.path(rel), 0o755)
        os.chmod(srv.path("bin"), 0o755)
        return srv


GROUP = RulesGroup("rules-e2e", snippet=BASE + "".join(
    "\n# ---- %s ----\n%s" % (title, conf) for title, conf, _ in SECTIONS),
    modules=MODULES, files=FILES)


# ---- runner ------------------------------------------------------------------------------------

def expect(cond, message):
    if not cond:
        raise AssertionError(message)


def subst(srv, value):
    if isinstance(value, str):
        return value.replace("@PORT@", str(srv.port)).replace("@ROOT@", str(srv.root))
    if isinstance(value, Has):
        return Has(subst(srv, value.text))
    return value


def lookup(data, dotted):
    for part in dotted.split("."):
        if not isinstance(data, dict) or part not in data:
            return ABSENT
        data = data[part]
    return data


def request_logged(srv, case):
    line = "%s %s HTTP/1.1|" % (case.method, case.path)
    path = srv.path("logs/notes.log")
    return wait_for(lambda: path.exists() and line in path.read_text(errors="replace"),
                    timeout=5)


def send(srv, case):
    """srv.request(), except that a Host header given by the case replaces http.client's."""
    headers = {k: subst(srv, v) for k, v in case.headers.items()}
    if "Host" not in headers:
        return srv.request(case.method, case.path, body=case.body, headers=headers)
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=60)
    try:
        conn.putrequest(case.method, case.path, skip_host=True, skip_accept_encoding=True)
        for name, value in headers.items():
            conn.putheader(name, value)
        conn.endheaders(case.body.encode() if isinstance(case.body, str) else case.body)
        resp = conn.getresponse()
        return Response(resp.status, resp.reason, resp.getheaders(), resp.read())
    finally:
        conn.close()


def run_case(srv, case):
    offset = len(srv.error_log())
    started = time.time()
    resp = send(srv, case)
    elapsed = time.time() - started
    expect(resp.status == case.status, "%s %s: expected %d, got %d: %r" % (
        case.method, case.path, case.status, resp.status, resp.body[:300]))
    expect(request_logged(srv, case), "request not in the CustomLog")
    log = "\n".join(l for l in srv.error_log()[offset:].splitlines() if "mod_security:" in l)
    ctx = {"log": log, "elapsed": elapsed}
    for text in case.log:
        text = subst(srv, text)
        expect(text in log, "error log lacks %r; mod_security lines:\n%s" % (text, log or
                                                                              "(none)"))
    if case.nolog:
        expect(not log, "expected no mod_security line, got:\n%s" % log)
    if case.json:
        data = resp.json()
        for dotted, want in case.json.items():
            got = lookup(data, dotted)
            expect(matches(subst(srv, want), got), "JSON %s: expected %r, got %r"
                   % (dotted, want, got))
    for name, want in case.headers_out.items():
        got = resp.header(name)
        expect(matches(subst(srv, want), ABSENT if got is None else got),
               "response header %s: expected %r, got %r" % (name, subst(srv, want), got))
    for rel, wanted in case.files.items():
        path = srv.path(rel)
        text = path.read_text(errors="replace") if path.exists() else ""
        for needle, present in wanted:
            expect((needle in text) == present, "%s %s %r:\n%s" % (
                rel, "lacks" if present else "has", needle, text[-2000:]))
    if case.min_seconds is not None:
        expect(elapsed >= case.min_seconds, "answered in %.3fs < %.3fs"
               % (elapsed, case.min_seconds))
    if case.check:
        case.check(srv, resp, ctx)


def make_test(case):
    def test(srv):
        run_case(srv, case)
    test.__name__ = "test_" + case.name
    test.__doc__ = "%s %s -> %d" % (case.method, case.path, case.status)
    return GROUP.test(test)


def _register():
    seen = set()
    for _title, _conf, cases in SECTIONS:
        for case in cases:
            expect(case.name not in seen, "duplicate case %s" % case.name)
            seen.add(case.name)
            globals()["test_" + case.name] = make_test(case)


_register()


def test_cases_cover_every_directive():
    """Every rule-language directive of the table appears in the configuration above."""
    wanted = ("SecFilterEngine", "SecFilterScanPOST", "SecFilterScanOutput",
              "SecFilterOutputMimeTypes", "SecFilterDefaultAction", "SecFilterSignatureAction",
              "SecFilterInheritance", "SecFilterImport", "SecFilterRemove",
              "SecFilterInheritanceMandatory", "SecFilterActionsRestricted",
              "SecFilterCheckURLEncoding", "SecFilterCheckUnicodeEncoding",
              "SecFilterForceByteRange", "SecFilterCheckCookieFormat", "SecFilterCookieFormat",
              "SecFilterNormalizeCookies", "SecCharset", "SecFilterDebugLog",
              "SecFilterDebugLevel", "SecUploadInMemoryLimit", "SecFilter",
              "SecFilterSelective")
    words = set(GROUP.snippet.split())
    missing = [d for d in wanted if d not in words]
    expect(not missing, "directives without a case: %s" % missing)
