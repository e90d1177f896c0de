/*
 * The persistent collections as variables (reference secrule-2.9 §11.3): IP, SESSION, USER,
 * GLOBAL and RESOURCE read the record initcol / setsid / setuid / setrsc named (loading it on
 * first read, store/tx_store.c), every field included as ModSecurity shows them (KEY, TIMEOUT,
 * __expire_KEY, __key, __name, CREATE_TIME, UPDATE_COUNTER, IS_NEW, LAST_UPDATE_TIME,
 * UPDATE_RATE, the rules' own); a collection not initialised has no values. SESSIONID and
 * USERID are the keys setsid and setuid gave.
 */
#include "rules/variables/variables.h"
#include "store/store.h"
#include "tx.h"

#include <apr_strings.h>

static void push(apr_array_header_t *out, const char *value, const char *name)
{
    pp_value_t *v = apr_array_push(out);
    v->value = pp_str_from_cstr(value);
    v->name = name ? pp_str_from_cstr(name) : PP_STR_NULL;
    v->sketch = NULL;
    v->checks = 0;
}

apr_status_t pp_var_pcoll(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out)
{
    pp_store_rec_t *r = pp_tx_pcoll(tx, (pp_pcoll_id_t)t->var->data);
    if (!r)
        return APR_SUCCESS;
    int pos = 0;
    const char *name, *value;
    while (pp_store_next(r, &pos, &name, &value))
        if (!t->selector || strcasecmp(t->selector, name) == 0)
            push(out, value, name);
    return APR_SUCCESS;
}

apr_status_t pp_var_pcoll_id(pp_tx_t *tx, const pp_target_t *t, apr_array_header_t *out)
{
    const char *v = pp_tx_pcoll_id(tx, t->var->data == PP_PCOLL_SESSIONID);
    if (v)
        push(out, v, NULL);
    return APR_SUCCESS;
}
