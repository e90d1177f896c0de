/*
 * Shared between the SQL tokenizer (sqli.c) and the folding and decision step (sqli_fold.c).
 * Token type letters are the fingerprint alphabet (docs/detectors.md lists them).
 */
#ifndef PP_SQLI_INTERNAL_H
#define PP_SQLI_INTERNAL_H

#include <stdint.h>

#include "rules/operators/operators.h"

#define SQLI_TOKEN_SIZE 32 /* a token keeps at most 31 bytes of its text */
#define SQLI_MAX_TOKENS 5  /* fingerprint length */

enum {
    SQLI_KEYWORD = 'k', SQLI_UNION = 'U', SQLI_GROUP = 'B', SQLI_EXPRESSION = 'E',
    SQLI_SQLTYPE = 't', SQLI_FUNCTION = 'f', SQLI_BAREWORD = 'n', SQLI_NUMBER = '1',
    SQLI_VARIABLE = 'v', SQLI_STRING = 's', SQLI_OPERATOR = 'o', SQLI_LOGIC = '&',
    SQLI_COMMENT = 'c', SQLI_COLLATE = 'A', SQLI_LPAREN = '(', SQLI_RPAREN = ')',
    SQLI_LBRACE = '{', SQLI_RBRACE = '}', SQLI_DOT = '.', SQLI_COMMA = ',', SQLI_COLON = ':',
    SQLI_SEMICOLON = ';', SQLI_TSQL = 'T', SQLI_UNKNOWN = '?', SQLI_EVIL = 'X',
    SQLI_BACKSLASH = '\\',
};

/* Lexer flags: the implied opening quote, and which comment syntax applies. */
enum { SQLI_QUOTE_SINGLE = 1, SQLI_QUOTE_DOUBLE = 2, SQLI_ANSI = 4, SQLI_MYSQL = 8 };

typedef struct sqli_token_t {
    char type;
    char str_open;  /* quote that opened a string, '\0' when implied by the context */
    char str_close; /* quote that closed it, '\0' when the value ended inside */
    apr_size_t len;
    char val[SQLI_TOKEN_SIZE];
} sqli_token_t;

typedef struct sqli_lexer_t {
    const char *s;
    apr_size_t n;
    apr_size_t pos;
    int flags;
    sqli_token_t *cur;               /* where the next token is written */
    sqli_token_t tv[SQLI_MAX_TOKENS + 3];
    unsigned n_tokens;               /* tokens produced, comments and skipped ones included */
    unsigned n_hash;                 /* '#' seen */
    unsigned n_ddx;                  /* "--x" read as a comment */
    char fingerprint[8]; /* up to 6 types before the evil check reduces it */
} sqli_lexer_t;

/* Writes the next token into lx->cur; false at the end of the value. */
bool pp_sqli_next_token(sqli_lexer_t *lx);

/* Token type of a word (case-insensitive; at most 31 bytes), or '\0' if it is not in the
 * table. */
char pp_sqli_word_type(const char *s, apr_size_t len);

/* Whether fp (1 to 5 token types, NUL-terminated) is a known injection fingerprint. */
bool pp_sqli_fingerprint_known(const char *fp);

#endif
