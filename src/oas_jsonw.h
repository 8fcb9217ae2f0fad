/* mod_oauth_as: a JSON object writer for the hot path (token claims, token response, store
 * records): members are appended to one pool buffer, strings escaped per RFC 8259 §7.
 * Parsing stays with jansson (oas_json.h). */
#ifndef OAS_JSONW_H
#define OAS_JSONW_H

#include "oas.h"

typedef struct {
    apr_pool_t *p;
    char *buf;
    apr_size_t len, cap;
    int n;   /* members written */
    int bad; /* a string was not valid UTF-8: oas_jsonw_end returns NULL */
} oas_jsonw_t;

/** Start an object; hint is the expected size in bytes (the buffer grows as needed). */
void oas_jsonw_init(oas_jsonw_t *w, apr_pool_t *p, apr_size_t hint);

/** A string member; NULL or "" writes nothing (absent and empty mean the same in our
 * records and claims). Invalid UTF-8 makes the whole object fail. */
void oas_jsonw_str(oas_jsonw_t *w, const char *key, const char *val);

/** The same, but "" is written (request parameters, where empty is a value of its own). */
void oas_jsonw_str_keep_empty(oas_jsonw_t *w, const char *key, const char *val);

void oas_jsonw_int(oas_jsonw_t *w, const char *key, apr_int64_t val);

void oas_jsonw_bool(oas_jsonw_t *w, const char *key, int val);

/** A member whose value is already JSON text (trusted: it came from oas_jsonw or jansson);
 * NULL writes nothing. */
void oas_jsonw_raw(oas_jsonw_t *w, const char *key, const char *json);

/** Close the object. @return the NUL-terminated text in the pool, or NULL if a string was
 * not valid UTF-8 */
const char *oas_jsonw_end(oas_jsonw_t *w);

#endif
