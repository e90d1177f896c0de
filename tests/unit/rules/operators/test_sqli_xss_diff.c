/*
 * Differential test of @detectSQLi and @detectXSS (rules/operators/sqli.c, sqli_fold.c, xss.c)
 * against the reference: libinjection 3.9.2 inside Debian's mod_security2.so, loaded with
 * dlopen (tests/oracle/libinjection_oracle.h). Both must give the same answer on every case:
 * is-SQLi and the fingerprint, is-XSS.
 *
 * The corpus: hand-written attack classes (union, boolean, time, stacked and error-based SQLi;
 * comment, quoting and encoding tricks; XSS in tags, attributes, event handlers, URLs,
 * SVG/MathML, comments) and benign text (names with apostrophes, prose, JSON, SQL-looking
 * English, code, non-Latin scripts); every 1- and 2-byte value; and tens of thousands of
 * values assembled from SQL and HTML fragments by a fixed-seed generator, plus mutations of
 * the hand-written cases (case, spacing, comments, quotes, truncation). Prints the first
 * disagreements and fails on any. A missing oracle fails the test (no skip).
 *
 * @detectXSS's literal needs ('<' or '=', xss.c pp_op_xss_parse) are held to the reference on
 * the same cases: every value it calls XSS meets them (else the rule index would skip an
 * attack); test_xss_needs also draws values holding neither byte from the HTML fragments.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <apr_general.h>

#include "rules/operators/operators.h"
#include "rules/operators/sqli_hash.h"
#include "../../../oracle/libinjection_oracle.h"

/* The lexer's word table (sqli.c reads it the same way): every word it knows, for
 * test_one_token. */
typedef struct sqli_word_t {
    const char *word;
    unsigned char len;
    char type;
} sqli_word_t;
#include "rules/operators/sqli_data.inc"

static oracle_t oracle;
static apr_pool_t *pool, *scratch;
static const pp_rx_needs_t *xss_needs; /* @detectXSS's, as pp_op_xss_parse makes them */

typedef struct stats_t {
    unsigned long cases, sqli_hits, xss_hits, bad;
} stats_t;

static void show(const char *what, const char *s, size_t n, const char *detail)
{
    fprintf(stderr, "DISAGREE %s [", what);
    for (size_t i = 0; i < n && i < 300; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 32 && c < 127 && c != '\\')
            fputc(c, stderr);
        else
            fprintf(stderr, "\\x%02x", c);
    }
    fprintf(stderr, "] %s\n", detail);
}

static void compare(stats_t *st, const char *s, size_t n)
{
    char ofp[8], pfp[PP_SQLI_FINGERPRINT_SIZE];
    int o = oracle_sqli(&oracle, s, n, ofp);
    bool p = pp_sqli_detect((pp_str_t){ s, n }, pfp);
    st->cases++;
    st->sqli_hits += o != 0;
    if ((o != 0) != p || (o && strcmp(ofp, pfp) != 0)) {
        char d[64];
        snprintf(d, sizeof d, "oracle %d '%s', ours %d '%s'", o, o ? ofp : "", p, pfp);
        if (st->bad++ < 30)
            show("sqli", s, n, d);
    }
    int ox = oracle_xss(&oracle, s, n);
    bool px = pp_xss_detect((pp_str_t){ s, n });
    st->xss_hits += ox != 0;
    if (ox) {
        pp_str_t v = { s, n };
        bool met = pp_rx_needs_met(xss_needs, v, NULL) &&
                   pp_rx_needs_met(xss_needs, v, pp_sketch_build(scratch, v));
        apr_pool_clear(scratch);
        if (!met && st->bad++ < 30)
            show("xss needs", s, n, "the oracle says XSS, the needs say it cannot be");
    }
    if ((ox != 0) != px) {
        char d[64];
        snprintf(d, sizeof d, "oracle %d, ours %d", ox, px);
        if (st->bad++ < 30)
            show("xss", s, n, d);
    }
}

static void compare_str(stats_t *st, const char *s)
{
    compare(st, s, strlen(s));
}

/* ---- hand-written classes ------------------------------------------------------------- */

static const char *const sqli_attacks[] = {
    /* union based */
    "1 UNION SELECT 1,2,3--", "1' UNION SELECT username, password FROM users--",
    "-1 union all select null,null,version()#", "1' union select 1,@@version,3 -- -",
    "' UNION SELECT table_name FROM information_schema.tables WHERE 'a'='a",
    "1) union select 1,2,3 from dual--", "0x1 union select load_file('/etc/passwd')",
    "1 UnIoN/**/SeLeCt/**/1,2", "1 union distinct select 1", "') union select * from t#",
    "1 union(select(1),(2))", "1 union select 1 into outfile '/tmp/x'",
    /* boolean */
    "1' OR '1'='1", "1' or 1=1--", "' or ''='", "1 AND 1=1", "1' AND 'a'='a", "admin'--",
    "admin' #", "' OR 1=1 LIMIT 1 --", "1 or true", "x' or not 1=2 or 'y'='z",
    "1' && '1'='1", "1' || 1 --", "') or ('a'='a", "\" or \"\"=\"", "1 xor 1", "'='",
    "1 AND 2>1", "1' AND ASCII(SUBSTRING(user(),1,1))>64--", "1 OR 1 LIKE 1",
    "1' and exists(select * from users)--", "1 and (select count(*) from tab)>0",
    /* time based */
    "1' AND SLEEP(5)--", "1; WAITFOR DELAY '0:0:5'--", "1 and benchmark(5000000,md5(1))",
    "1' and pg_sleep(5)--", "1) or sleep(5)#", "'; select pg_sleep(10); --",
    "1 AND IF(1=1,SLEEP(5),0)", "1'+(select*from(select(sleep(20)))a)+'",
    /* stacked */
    "1; DROP TABLE users--", "1'; exec xp_cmdshell 'dir'--", "1; insert into t values(1)",
    "'; shutdown --", "1;;drop table x", "1; IF 1=1 SELECT 1", "x'; update users set a=1;--",
    "1; declare @a varchar(10); set @a='x'; exec(@a)",
    /* error based */
    "1 AND extractvalue(1,concat(0x7e,version()))", "1' and updatexml(1,concat(0x7e,user()),1)--",
    "1 and 1=convert(int,@@version)", "' and 1=cast((select version()) as int)--",
    "1 AND (SELECT 1 FROM(SELECT COUNT(*),CONCAT(version(),FLOOR(RAND(0)*2))x FROM "
    "information_schema.tables GROUP BY x)a)",
    /* comments, quoting, literals */
    "1/*comment*/or/**/1=1", "1/*!50000union*/select 1", "1 /*! or */ 1=1", "1--x",
    "1-- ", "1#", "1 --", "1/**/", "1/* nested /* comment */", "{``.``.col}", "{ foo 1=1 }",
    "$$ drop table $$", "$tag$ x $tag$ or 1=1", "E'\\x27 or 1=1", "N'x' or 1=1", "q'[x]' or 1",
    "nq'<x>' or 1=1", "U&'\\0041' or 1=1", "b'0101' or 1=1", "x'4f' or 1=1", "X'' union select 1",
    "0x414243 or 1=1", "0b1010 union select 1", "1e1 or 1=1", "1.5e union select",
    "1.e1 or 1", ".1 or .2", "1fUNION select 1", "1d;select 1", "\\N or 1=1", "\\1 or 1=1",
    "\\%1", "`a` or 1", "@@version or 1", "@`x` or 1", "@'x' or 1=1", "@\"x\" or 1", "[col] or 1=1",
    "[unterminated or 1", "1 collate utf8_bin", "'a' collate latin1_general_cs = 'a'",
    "1::int or 1=1", "'1'::text or 1=1", "1 <=> 1", "1 != 2 or 1", "1 !< 2", "1 between 1 and 2",
    "1 not in (1,2)", "1 in (select 1)", "a not like b", "like(1,2)", "1 is not null or 1=1",
    "select user()", "select user(1)", "database()", "password('x')", "current_user()",
    "select + (1)", "limit - 1", "1,-1", "1,-sin(1)", "select . `foo`", "db.tbl or 1=1",
    "1 or sp_password", "1 -- sp_password", "SELECT * FROM t WHERE id = 1 -- sp_password",
    "1`", "1 or 1=1 `", "' or 1=1 ``", "1 || `", "a union `", "1'`", "1;`", "-1'",
    "1 union select 1 from dual where 1=1 and 2=2 or 3=3", "'-'", "' '", "'&'", "'^'",
    "'*'", "'||'", "a'||'b", "\"a\"+\"b\"", "'a' 'b'", "x' + 'y", "x\" & \"y", "1 and 17<18",
    "tall and 17", "1&1", "1 & v", "'a' & x", "1 into outfile", "1 into dumpfile 'x'",
    "1 into x", "1 goto x", "; if 1", "\xa0or\xa0" "1=1", "1\x00or 1=1", "'\x00 or 1=1--",
    "%27 or 1=1", "char(39) or 1=1", "1 or 0x31=0x31", "1'='1", "1'-'1", "'+'", "1'*'1",
    /* tokens longer than the 31 bytes a token keeps */
    "1 or aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=1",
    "select aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa from b",
    "`sleepaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa`(1) or 1",
    "12345678901234567890123456789012345678901234567890--",
    "12345678901234567890123456789012345678901234567890 --",
    "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' or 1=1",
    "1 union all distinctrow select 1", "1 current_timestamp or 1", "x current user or 1",
    "1 union aaaaaaaaaaaaaaaaaaaaaaaaaaaaa select", "@aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa or 1",
    "a b c d { ``", "1 x y z {``", /* six tokens before the evil check (a fuzz finding) */
    "sys.database_name or 1", "SELECT.1 or 1", "union`x` select 1", "[aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa] or 1",
};

static const char *const xss_attacks[] = {
    "<script>alert(1)</script>", "<SCRIPT SRC=//evil/x.js></SCRIPT>", "<scr\0ipt>",
    "<img src=x onerror=alert(1)>", "<img src=\"x\" onerror=\"alert(1)\">", "<body onload=x()>",
    "<div onmouseover='x'>", "<a onclick=x>", "<x on=1>", "<x onab=1>", "<x oncustom=1>",
    "<a href=javascript:alert(1)>", "<a href=\"javascript:alert(1)\">", "<a href='JaVaScRiPt:x'>",
    "<a href=\" &#14;  javascript:alert(1)\">", "<a href=&#106;avascript:x>",
    "<a href=&#x6A;avascript:x>", "<a href=&#0000106avascript:x>", "<a href=java&#0;script:x>",
    "<a href=jav&#x0A;ascript:x>", "<a href=\"data:text/html;base64,PHNjcmlwdD4=\">",
    "<a href=vbscript:msgbox(1)>", "<a href=view-source:x>", "<iframe src=x>",
    "<form action=javascript:x>", "<button formaction=javascript:x>", "<x style=x>",
    "<x style=\"behaviour:url(x)\">", "<svg onload=alert(1)>", "<svg><script>x</script>",
    "<svg/onload=x>", "<math><maction actiontype=statusline xlink:href=javascript:x>",
    "<math href=javascript:x>", "<xsl:stylesheet>", "<object data=x>", "<embed src=x>",
    "<applet code=x>", "<meta http-equiv=refresh>", "<link rel=stylesheet href=x>", "<base href=x>",
    "<style>@import 'x'</style>", "<!DOCTYPE html>", "<!doctype x", "<!--[if IE]>x<![endif]-->",
    "<!-- ` -->", "<?import namespace=x>", "<!ENTITY x>", "<!-- xml x -->", "<% x %>",
    "<%` x %>", "<![CDATA[<script>]]>", "<x xmlns=x>", "<x xlink:href=javascript:x>",
    "<x xmlns:foo=x>", "<animate attributename=onload to=x>", "<set attributeName=href to=x>",
    "<x datasrc=x>", "<x dataformatas=html>", "<x filter=x>", "<x background=javascript:x>",
    "<x dynsrc=javascript:x>", "<x lowsrc=javascript:x>", "<video poster=javascript:x>",
    "<x folder=javascript:x>", "<x from=javascript:x>", "<x by=javascript:x>",
    "<x values=javascript:x>", "<x handler=javascript:x>", "<handler>", "<listener>",
    "<vmlframe>", "<isindex>", "<noscript>", "<frameset>", "<frame>", "<comment>", "<xss>",
    "<xml>", "<import>", "\" onmouseover=\"alert(1)", "' onfocus='x", "x onerror=alert(1)",
    "` onclick=x", "\"><script>x</script>", "'><img src=x onerror=x>", "javascript:alert(1)",
    "\"style=\"x", "x\" style=\"x", "</script x>", "</x><script>", "</>", "</><script>",
    "</a b><x>", "<a/onclick=x>", "<a\tonclick=x>", "<a\0 onclick=x>", "<a\nhref=javascript:x>",
    "<a href\n=\njavascript:x>", "<a href = 'javascript:x'>", "<a href=`javascript:x`>",
    "<a href=\xffjavascript:x>", "<a \xff onclick=x>", "<a href=\x01javascript:x>",
    "<a href=\"&#x1000FF;javascript:x\">", "<a href=\"&#x144;ATA:x\">", "<a href=&#",
    "<a href=&#x", "<a href=&#x6a", "<a href=&#106", "<<script>", "< script>", "<!---->",
    "<!--->", "<!-- -- --!>", "<!-\0->", "<!--\0->x", "<x =onload=1>", "<x a=1/>", "<x/ a>",
};

static const char *const benign[] = {
    "O'Brien", "D'Angelo", "L'Oréal", "Rock 'n' Roll", "it's a nice day", "don't stop",
    "John \"Johnny\" Smith", "McDonald's", "Hello, world!", "The quick brown fox", "",
    " ", "1", "12345", "3.14", "-5", "+1", "1e10", "0x1F", "a", "ab", "abc",
    "Select the best option from the list", "Please select one or more items",
    "union station", "order by date", "drop me a line", "I'll be there at 5 or 6",
    "Tom & Jerry", "1 & 2", "A/B testing", "50% off", "x=1&y=2", "/path/to/file.txt",
    "{\"name\": \"O'Brien\", \"age\": 42, \"tags\": [\"a\", \"b\"]}", "[1,2,3]",
    "{\"q\":\"select\"}", "key: value", "SELECT is a keyword", "where are you from?",
    "if (a < b) { return a; }", "for (i = 0; i < n; i++) x += i;", "printf(\"%d\", x);",
    "def f(x): return x * 2", "SELECT * FROM docs", "user@example.com", "+1 (555) 123-4567",
    "2024-01-01T00:00:00Z", "Привет, мир", "こんにちは世界", "مرحبا بالعالم", "שלום עולם",
    "你好，世界", "Ελληνικά", "नमस्ते दुनिया", "emoji 😀 test", "naïve café", "<b>bold</b>",
    "<p>paragraph</p>", "<a href=\"https://example.com\">link</a>", "<img src=\"a.png\">",
    "5 < 6 and 7 > 3", "a<b", "<3 you", "I <3 SQL", "x -- y", "well--maybe", "#hashtag",
    "C# and F#", "1--2", "9876-QWERTzxcvbnm--", "user_id", "password123", "null",
    "true", "false", "onion", "online", "one two", "on", "href", "data", "javascript",
    "Just a 'quoted' word", "\"double\" quoted", "`backtick`", "[bracket]", "(paren)",
    "a, b, c", "1, 2, 3", "$100.00", "$$", "$", "@user", "@@", "\\", "\\\\", "'", "\"", "`",
    "''", "\"\"", "';", "--", "/*", "*/", "#", ";", "()", "=", "==", "!=", "<>",
};

/* ---- generators --------------------------------------------------------------------------- */

/* xorshift64*: fixed seed, same corpus every run. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(uint32_t n)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545F4914F6CDD1Dull) >> 33) % n;
}

static const char *const sql_frags[] = {
    "1", "0", "-1", "1.5", ".5", "1e5", "1e", "0x41", "0x", "0b01", "'", "\"", "`", "'a'",
    "\"a\"", "`a`", "'a", "a'", "\\'", "''", "x'41'", "b'01'", "n'x'", "e'x'", "q'[x]'",
    "u&'x'", "$$x$$", "$a$x$a$", "$1", "$", "@a", "@@a", "@", " ", "  ", "\t", "\n", "\xa0",
    "\x00", "(", ")", "((", "))", ",", ";", ".", ":", "::", "{", "}", "[a]", "\\N", "\\",
    "=", "!=", "<>", "<=>", "<", ">", "<=", ">=", "+", "-", "*", "/", "%", "^", "|", "&",
    "||", "&&", "!", "!!", "~", "#", "--", "-- ", "--x", "/**/", "/*x*/", "/*!", "/*", "*/",
    "/*!50000", "?", "select", "SELECT", "union", "UNION ALL", "union distinct", "from",
    "where", "and", "or", "xor", "not", "NOT IN", "in", "like", "not like", "is", "null",
    "true", "false", "as", "order by", "group by", "having", "limit", "offset", "into",
    "outfile", "dumpfile", "insert", "update", "delete", "drop", "table", "exec", "execute",
    "declare", "waitfor", "delay", "if", "IF", "case", "when", "then", "else", "end",
    "sleep", "benchmark", "version", "user", "user_id", "USER_NAME", "database", "password",
    "current_user", "current_date", "localtime", "char", "concat", "substring", "ascii",
    "cast", "convert", "int", "varchar", "collate", "utf8_bin", "latin1", "binary",
    "information_schema", "tables", "dual", "sp_password", "xp_cmdshell", "begin",
    "a", "b", "abc", "id", "users", "x.y", "SELECT.1", "union.1", "x`y", "é", "\xc3\xa9",
    "\xff", "\x80", "1f", "1d", "1fu", "0xZZ", "1.e", "e", "E", "N", "Q", "U", "X", "B",
};

static const char *const html_frags[] = {
    "<", ">", "</", "/>", "<!", "<!--", "-->", "--!>", "<?", "<%", "%>", "<![CDATA[", "]]>",
    "<!DOCTYPE", " ", "\t", "\n", "\x00", "\x0b", "\xff", "\x80", "=", "\"", "'", "`", "/",
    "a", "b", "x", "div", "img", "script", "SCRIPT", "scr\0ipt", "svg", "svg:x", "xsl",
    "math", "iframe", "style", "object", "embed", "base", "link", "meta", "frame", "xml",
    "src", "href", "HREF", "xlink:href", "action", "formaction", "background", "poster",
    "style", "filter", "onload", "onerror", "on", "onx", "oncl", "onclick", "ONMOUSEOVER",
    "xmlns", "xmlns:x", "xlink", "attributename", "datasrc", "dataformatas", "to", "by",
    "from", "values", "handler", "javascript:", "JaVaScRiPt:", "java", "jav&#x61;script:",
    "&#106;", "&#x6A;", "&#x6a", "&#0;", "&#10;", "&#x0a;", "&#", "&#x", "&amp;", "&",
    "data:", "vbscript:", "view-source:", "http://x/", "alert(1)", "x()", "[if", "IMPORT",
    "ENTITY", "1", "hello", "text", ";", ":",
};

static void gen_from(stats_t *st, const char *const *frags, size_t nfrags, unsigned count,
                     unsigned max_parts, bool spaced)
{
    char buf[4096];
    for (unsigned k = 0; k < count; k++) {
        size_t n = 0;
        unsigned parts = 1 + rnd(max_parts);
        for (unsigned p = 0; p < parts; p++) {
            const char *f = frags[rnd((uint32_t)nfrags)];
            /* "\x00" fragments are one NUL byte. */
            size_t fl = f[0] ? strlen(f) : 1;
            if (n + fl + 1 >= sizeof buf)
                break;
            memcpy(buf + n, f, fl);
            n += fl;
            if (spaced && rnd(3) == 0)
                buf[n++] = ' ';
        }
        compare(st, buf, n);
    }
}

/* Variations of one case: case flips, spaces to comments or tabs, quotes added, prefixes cut. */
static void mutate(stats_t *st, const char *src)
{
    size_t n = strlen(src);
    char buf[1024];
    if (n == 0 || n * 3 + 8 > sizeof buf)
        return;
    for (unsigned v = 0; v < 12; v++) {
        size_t m = 0;
        for (size_t i = 0; i < n; i++) {
            char c = src[i];
            switch (v) {
            case 0: buf[m++] = (c >= 'a' && c <= 'z') ? (char)(c - 32) : c; break;
            case 1:
                if (c == ' ') {
                    memcpy(buf + m, "/**/", 4);
                    m += 4;
                } else {
                    buf[m++] = c;
                }
                break;
            case 2: buf[m++] = c == ' ' ? '\t' : c; break;
            case 3: buf[m++] = c == ' ' ? '+' : c; break;
            case 4: buf[m++] = c == '\'' ? '"' : c; break;
            case 5: buf[m++] = c == '"' ? '\'' : c; break;
            case 6: buf[m++] = (rnd(4) == 0 && c >= 'a' && c <= 'z') ? (char)(c - 32) : c; break;
            default: buf[m++] = c; break;
            }
        }
        if (v == 7) {
            memmove(buf + 1, buf, m);
            buf[0] = '\'';
            m++;
        } else if (v == 8) {
            memmove(buf + 2, buf, m);
            memcpy(buf, "1'", 2);
            m += 2;
        } else if (v == 9) {
            memcpy(buf + m, "-- -", 4);
            m += 4;
        } else if (v == 10 && m > 1) {
            m = 1 + rnd((uint32_t)(m - 1)); /* a truncated value */
        } else if (v == 11 && m > 1) {
            size_t cut = rnd((uint32_t)m);
            memmove(buf, buf + cut, m - cut);
            m -= cut;
        }
        compare(st, buf, m);
    }
}

static void run_list(stats_t *st, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        compare_str(st, list[i]);
        mutate(st, list[i]);
    }
}

#define RUN_LIST(st, l) run_list(st, l, sizeof l / sizeof l[0])

static void report(const char *name, const stats_t *st)
{
    fprintf(stderr, "%s: %lu cases (oracle: %lu SQLi, %lu XSS), %lu disagreements\n", name,
            st->cases, st->sqli_hits, st->xss_hits, st->bad);
}

static void test_hand_written(void **state)
{
    stats_t st = { 0 };
    RUN_LIST(&st, sqli_attacks);
    RUN_LIST(&st, xss_attacks);
    RUN_LIST(&st, benign);
    report("hand-written + mutations", &st);
    /* The corpus must exercise both answers of both detectors. */
    assert_true(st.sqli_hits > 100 && st.xss_hits > 100);
    assert_int_equal(st.bad, 0);
}

static void test_short_values(void **state)
{
    stats_t st = { 0 };
    char b[3];
    for (int i = 0; i < 256; i++) {
        b[0] = (char)i;
        compare(&st, b, 1);
        for (int j = 0; j < 256; j++) {
            b[1] = (char)j;
            compare(&st, b, 2);
        }
    }
    /* Three bytes over the characters that start or end tokens. */
    static const char alpha[] = "0 '\"`-#/*!<>=&|@$\\.xXeEnNqQuUbB(){}[];,:?1%^~\xa0\xff";
    size_t na = sizeof alpha; /* includes the NUL */
    for (size_t i = 0; i < na; i++)
        for (size_t j = 0; j < na; j++)
            for (size_t k = 0; k < na; k++) {
                b[0] = alpha[i], b[1] = alpha[j], b[2] = alpha[k];
                compare(&st, b, 3);
            }
    report("short values", &st);
    assert_int_equal(st.bad, 0);
}

static void test_generated(void **state)
{
    stats_t st = { 0 };
    size_t ns = sizeof sql_frags / sizeof sql_frags[0];
    size_t nh = sizeof html_frags / sizeof html_frags[0];
    gen_from(&st, sql_frags, ns, 60000, 8, true);
    gen_from(&st, sql_frags, ns, 20000, 14, false);
    gen_from(&st, html_frags, nh, 40000, 10, false);
    gen_from(&st, html_frags, nh, 10000, 16, true);
    gen_from(&st, sql_frags, ns, 2000, 400, true);  /* long values, up to 4 KB */
    gen_from(&st, html_frags, nh, 2000, 400, true);
    report("generated", &st);
    assert_true(st.sqli_hits > 1000 && st.xss_hits > 1000);
    assert_int_equal(st.bad, 0);
}

/* Values that are one bare word (a letter, then letters and digits) or one number, which
 * pp_sqli_detect answers without the lexer (sqli_fold.c one_token): every word of the table in
 * upper, lower and mixed case, alone and with digits after it, and generated words and numbers
 * of 1 to 40 bytes, the letters that open special strings (b x e n q u) first among them. */
static void test_one_token(void **state)
{
    stats_t st = { 0 };
    (void)sqli_fp_alphabet, (void)sqli_word_slots, (void)sqli_fp_code, (void)sqli_fingerprints;
    char buf[64];
    for (size_t w = 0; w < sizeof sqli_words / sizeof sqli_words[0]; w++) {
        size_t n = sqli_words[w].len;
        memcpy(buf, sqli_words[w].word, n);
        for (int form = 0; form < 4; form++) {
            for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)sqli_words[w].word[i];
                bool lower = form == 1 || (form == 2 && i % 2);
                buf[i] = (char)(lower && c >= 'A' && c <= 'Z' ? c + 32 : c);
            }
            size_t len = n;
            if (form == 3) /* with digits after it */
                len += (size_t)snprintf(buf + n, sizeof buf - n, "%u", rnd(100000));
            compare(&st, buf, len);
        }
    }
    static const char first[] = "bxenquBXENQUaAzZ";
    static const char alnum[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    for (unsigned k = 0; k < 40000; k++) {
        size_t len = 1 + rnd(40);
        bool number = k % 4 == 0;
        buf[0] = number ? (char)('0' + rnd(10))
                        : k % 4 == 1 ? first[rnd(sizeof first - 1)] : alnum[rnd(52)];
        for (size_t i = 1; i < len; i++)
            buf[i] = number ? (char)('0' + rnd(10)) : alnum[rnd(sizeof alnum - 1)];
        compare(&st, buf, len);
    }
    report("one word or number", &st);
    assert_int_equal(st.bad, 0);
}

/* Values from the HTML fragments with every '<' and '=' taken out: attribute names, event
 * handlers, URLs and quotes without the two bytes that start a tag or a value. The reference
 * calls none of them XSS, which is what lets @detectXSS's needs skip them. */
static void test_xss_needs(void **state)
{
    stats_t st = { 0 };
    size_t nh = sizeof html_frags / sizeof html_frags[0];
    char buf[4096];
    unsigned long hits = 0;
    for (unsigned k = 0; k < 40000; k++) {
        size_t n = 0;
        unsigned parts = 1 + rnd(12);
        for (unsigned p = 0; p < parts; p++) {
            const char *f = html_frags[rnd((uint32_t)nh)];
            size_t fl = f[0] ? strlen(f) : 1;
            for (size_t i = 0; i < fl && n + 2 < sizeof buf; i++)
                if (f[i] != '<' && f[i] != '=')
                    buf[n++] = f[i];
            if (rnd(3) == 0)
                buf[n++] = ' ';
        }
        assert_false(pp_rx_needs_met(xss_needs, (pp_str_t){ buf, n }, NULL));
        hits += oracle_xss(&oracle, buf, n) != 0;
        compare(&st, buf, n);
    }
    report("without '<' and '='", &st);
    assert_int_equal(hits, 0);
    assert_int_equal(st.bad, 0);
}

int main(void)
{
    apr_initialize();
    const char *err = oracle_open(&oracle);
    if (err) {
        fprintf(stderr, "test_sqli_xss_diff: %s\n", err);
        return 1;
    }
    apr_pool_create(&pool, NULL);
    apr_pool_create(&scratch, pool);
    void *compiled = NULL;
    assert_null(pp_op_xss_parse(pool, "", &compiled));
    xss_needs = pp_op_xss_needs(compiled);
    if (!xss_needs) {
        fprintf(stderr, "test_sqli_xss_diff: @detectXSS has no needs\n");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xss_needs),
        cmocka_unit_test(test_hand_written),
        cmocka_unit_test(test_short_values),
        cmocka_unit_test(test_generated),
        cmocka_unit_test(test_one_token),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    oracle_close(&oracle);
    apr_pool_destroy(pool);
    apr_terminate();
    return rc;
}
