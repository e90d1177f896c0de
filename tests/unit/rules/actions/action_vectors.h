/*
 * Vectors for the action registry (rules/actions/table.c), one or more per row: test_actions.c
 * parses each list and compares the resulting action set, written out field by field, with
 * `expect` (or the message with `error`), and the start-up warning with `warning` (a substring;
 * NULL: no warning); test_registry.c fails when a row has none (style §9).
 * The dump names only fields that are set, in this order: the disruptive action, status, url,
 * log, auditlog, id, rev, msg, severity, pause, exec, setenv, setnote, logparts, chain,
 * skipnext, mandatory.
 */
#ifndef PP_ACTION_VECTORS_H
#define PP_ACTION_VECTORS_H

#include <stdbool.h>

typedef struct action_vector_t {
    const char *name;   /* action row */
    const char *list;   /* action list as written in a rule */
    bool restricted;    /* SecFilterActionsRestricted On */
    const char *expect; /* dump of the parsed set; NULL when error is expected */
    const char *error;  /* substring of the message */
    const char *warning; /* substring of the warning, NULL: none */
} action_vector_t;

/* clang-format off */
static const action_vector_t action_vectors[] = {
    { "allow",      "allow",                      false, "allow", NULL, NULL },
    { "allow",      "allow:1",                    false, NULL, "action \"allow\" takes no value", NULL },
    { "auditlog",   "auditlog",                   false, "auditlog=1", NULL, NULL },
    { "chain",      "chain,pass",                 false, "pass chain", NULL, NULL },
    { "deny",       "deny",                       false, "deny", NULL, NULL },
    { "deny",       "DENY,status:500",            false, "deny status=500", NULL, NULL },
    { "deny",       "deny,pass",                  false, "pass", NULL, NULL }, /* the last disruptive wins */
    { "exec",       "exec:/bin/true",             false, "exec=/bin/true", NULL, NULL },
    { "exec",       "exec:true",                  false, NULL, "action \"exec\": \"true\" is not an absolute path", NULL },
    { "exec",       "exec:/nonexistent/prog",     false, "exec=/nonexistent/prog", NULL, "exec program \"/nonexistent/prog\" is not an executable file" },
    { "id",         "id:1001",                    false, "id=1001", NULL, NULL },
    { "id",         "id",                         false, NULL, "action \"id\" needs a value (id:...)", NULL },
    { "id",         "deny,id:5",                  true,  "id=5", NULL, "SecFilterActionsRestricted is On: actions \"deny\" of this rule id 5 are ignored" }, /* restricted: metadata only */
    { "log",        "log",                        false, "log=1", NULL, NULL },
    { "logparts",   "logparts:ABCZ",              false, "logparts=ABCZ", NULL, NULL },
    { "mandatory",  "mandatory",                  false, "mandatory", NULL, NULL },
    { "msg",        "msg:'a, b: c'",              false, "msg=a, b: c", NULL, NULL },
    { "msg",        "msg:'it\\'s'",               false, "msg=it's", NULL, NULL },
    { "msg",        "msg:'open",                  false, NULL, "unterminated quote in the value of \"msg\"", NULL },
    { "msg",        "msg:x,log",                  true,  "msg=x", NULL, "actions \"log\" of this rule are ignored" },
    { "noauditlog", "noauditlog",                 false, "auditlog=0", NULL, NULL },
    { "nolog",      "nolog",                      false, "log=0", NULL, NULL },
    { "nolog",      "log,nolog",                  false, "log=0", NULL, NULL },
    { "pass",       "pass",                       false, "pass", NULL, NULL },
    { "pause",      "pause:250",                  false, "pause=250", NULL, NULL },
    { "pause",      "pause:5000",                 false, "pause=5000", NULL, NULL },
    { "pause",      "pause:600000",               false, "pause=5000", NULL, "pause:600000 is capped at 5000 ms" },
    { "pause",      "pause:-1",                   false, NULL, "\"-1\" is not a number of milliseconds (0-600000)", NULL },
    { "pause",      "pause:600001",               false, NULL, "is not a number of milliseconds", NULL },
    { "proxy",      "proxy:http://127.0.0.1:9/x", false, "proxy url=http://127.0.0.1:9/x", NULL, NULL },
    { "redirect",   "redirect:http://e.test/",    false, "redirect url=http://e.test/", NULL, NULL },
    { "redirect",   "redirect",                   false, NULL, "action \"redirect\" needs a value", NULL },
    { "rev",        "rev:2",                      false, "rev=2", NULL, NULL },
    { "setenv",     "setenv:a=1,setenv:b",        false, "setenv=a=1;b=1", NULL, NULL },
    { "setenv",     "setenv:=1",                  false, NULL, "\"=1\" has no name (NAME=VALUE)", NULL },
    { "setnote",    "setnote:k=v w",              false, "setnote=k=v w", NULL, NULL },
    { "severity",   "severity:CRITICAL",          false, "severity=2", NULL, NULL },
    { "severity",   "severity:7",                 false, "severity=7", NULL, NULL },
    { "severity",   "severity:8",                 false, NULL, "\"8\" is not 0-7 or a syslog severity name", NULL },
    { "skipnext",   "skipnext:2",                 false, "skipnext=2", NULL, NULL },
    { "skipnext",   "skipnext:0",                 false, NULL, "\"0\" is not a number of rules (1-10000)", NULL },
    { "status",     "status:404",                 false, "status=404", NULL, NULL },
    { "status",     "status:99",                  false, NULL, "\"99\" is not an HTTP status (100-599)", NULL },
    { "status",     "status:403,pass",            true,  "", NULL, "actions \"status:403,pass\" of this rule" },
};
/* clang-format on */

#endif
