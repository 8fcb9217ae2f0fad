/* mod_oauth_as: the one JSON writer (token claims, responses, store records, the metadata
 * and JWKS documents): members are appended to one pool buffer, strings escaped per RFC 8259
 * §7. Objects and arrays nest; inside an array every writer takes key NULL and writes an
 * element. Stored records are read back with oas_jsonr.h. */
#ifndef OAS_JSONW_H
#define OAS_JSONW_H

#include <jansson.h>

#include "oas.h"

/* deeper nesting makes the whole text fail (our documents are two levels deep) */
#define OAS_JSONW_MAX_DEPTH 32

typedef struct {
    apr_pool_t *p;
    char *buf;
    apr_size_t len, cap;
    int n;               /* values written (members and elements, at every depth) */
    int bad;             /* invalid UTF-8, a key where none belongs, unbalanced or too deep
                          * nesting: oas_jsonw_end returns NULL */
    int depth;           /* open objects and arrays inside the outermost object */
    apr_uint32_t arrays; /* bit d: the container at depth d is an array */
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

/** Open a nested object or array member (an element when key is NULL inside an array);
 * oas_jsonw_close closes the innermost one. */
void oas_jsonw_object(oas_jsonw_t *w, const char *key);
void oas_jsonw_array(oas_jsonw_t *w, const char *key);
void oas_jsonw_close(oas_jsonw_t *w);

/** An array member of n strings (NULL ones are left out, "" is written). */
void oas_jsonw_strs(oas_jsonw_t *w, const char *key, const char *const *v, int n);

/** A jansson value as a member, for a claim that came in as JSON: written by this writer,
 * so escaping and UTF-8 checks are ours; reals as jansson writes them. NULL writes nothing. */
void oas_jsonw_json(oas_jsonw_t *w, const char *key, const json_t *v);

/** Close the object. @return the NUL-terminated text in the pool, or NULL if a string was
 * not valid UTF-8 or the nesting was wrong */
const char *oas_jsonw_end(oas_jsonw_t *w);

#endif
