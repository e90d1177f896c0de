/*
 * htmlEntityDecode as ModSecurity 2.9.7 does it: numeric entities (&#DDD; and &#xHH;, any
 * number of digits, the ';' optional) become ONE byte, the low byte of the value (a value
 * past LONG_MAX counts as LONG_MAX, whose low byte is 0xFF); named entities are only quot,
 * amp, lt, gt and nbsp (any case, ';' optional; nbsp is the byte 0xA0). Anything else is
 * copied: "&#" or "&#x" without digits, and an unknown name together with its '&'.
 */
#include "rules/transforms/transforms.h"

#include <limits.h>
#include <strings.h>

#include "util/util.h"

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alnum(char c)
{
    return is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

/* Value of the digits in [k, j), base 10 or 16, saturating as strtol does. */
static unsigned char number_byte(const char *s, apr_size_t k, apr_size_t j, int base)
{
    unsigned long long v = 0;
    for (; k < j; k++) {
        int d = base == 16 ? pp_hex_value((unsigned char)s[k]) : s[k] - '0';
        v = v * (unsigned)base + (unsigned)d;
        if (v > (unsigned long long)LONG_MAX)
            return 0xFF;
    }
    return (unsigned char)v;
}

static int named_entity(const char *name, apr_size_t n)
{
    static const struct {
        const char *name;
        unsigned char byte;
    } names[] = { { "quot", '"' }, { "amp", '&' }, { "lt", '<' }, { "gt", '>' }, { "nbsp", 0xA0 } };
    for (size_t e = 0; e < sizeof names / sizeof names[0]; e++)
        if (strlen(names[e].name) == n && strncasecmp(names[e].name, name, n) == 0)
            return names[e].byte;
    return -1;
}

apr_status_t pp_tfn_html_entity_decode(apr_pool_t *scratch, pp_str_t in, pp_str_t *out)
{
    const char *s = in.data;
    const char *amp = in.len ? memchr(s, '&', in.len) : NULL;
    if (!amp) {
        *out = in;
        return APR_SUCCESS;
    }
    char *buf = apr_palloc(scratch, in.len + 1);
    apr_size_t o = (apr_size_t)(amp - s), i = o;
    memcpy(buf, s, o);
    while (i < in.len) {
        if (s[i] != '&') { /* the run up to the next entity, copied whole */
            const char *next = memchr(s + i, '&', in.len - i);
            apr_size_t run = next ? (apr_size_t)(next - (s + i)) : in.len - i;
            memcpy(buf + o, s + i, run);
            o += run;
            i += run;
            continue;
        }
        apr_size_t copy = 1;
        if (i + 1 < in.len) {
            apr_size_t j = i + 1, k;
            int byte = -1;
            if (s[j] == '#') {
                copy = 2;
                j++;
                int base = 10;
                if (j < in.len && (s[j] == 'x' || s[j] == 'X')) {
                    copy = 3;
                    j++;
                    base = 16;
                }
                if (j < in.len) {
                    for (k = j; j < in.len && (base == 16 ? pp_hex_value((unsigned char)s[j]) >= 0
                                                          : is_digit(s[j]));)
                        j++;
                    if (j > k)
                        byte = number_byte(s, k, j, base);
                }
            } else {
                for (k = j; j < in.len && is_alnum(s[j]);)
                    j++;
                if (j > k) {
                    byte = named_entity(s + k, j - k);
                    if (byte < 0)
                        copy = j - k + 1;
                }
            }
            if (byte >= 0) {
                buf[o++] = (char)byte;
                i = (j < in.len && s[j] == ';') ? j + 1 : j;
                continue;
            }
        }
        for (apr_size_t z = 0; z < copy && i < in.len; z++)
            buf[o++] = s[i++];
    }
    return pp_tfn_result(in, buf, o, out);
}
