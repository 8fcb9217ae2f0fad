/* mod_oauth_as: application/x-www-form-urlencoded parser (RFC 6749 Appendix B) with the OAuth
 * rules on top: no repeated parameters (§3.1, §3.2), empty values count as omitted. */
#ifndef OAS_FORM_H
#define OAS_FORM_H

#include "oas.h"

/** Parse len bytes of data (need not be NUL-terminated) into *ptab, a table from decoded
 * names to decoded values, allocated in p.
 *
 * Pairs are split on '&'; '+' decodes to a space and %XX to its byte. Empty segments are
 * skipped; a name without '=' has an empty value; a parameter with an empty value is left out
 * of the table but still counts as seen for the repetition check.
 *
 * APR_EINVAL (and *ptab = NULL) when: a %-escape is broken; a name or value is not valid UTF-8
 * or holds a control character; a name is empty; a name is repeated (compared without regard
 * to case, as apr_table lookups are); a value decodes to more than OAS_MAX_VALUE_LEN bytes;
 * more than max_pairs non-empty segments are present.
 *
 * *pbad is NULL on success. On failure it is a static or pool string made only of
 * [A-Za-z0-9_.-], fit for an error_description: the offending parameter's name, "parameter"
 * when that name cannot be shown safely, or "too_many_parameters". */
apr_status_t oas_form_parse(apr_table_t **ptab, const char **pbad, apr_pool_t *p, const char *data,
                            apr_size_t len, int max_pairs);

/** Like oas_form_parse, but a repeated name is not an error: the first value is kept and
 * *pdup is set to the (lower-cased, safe) name of the first repeated parameter, else NULL.
 * Malformed input still gives APR_EINVAL. */
apr_status_t oas_form_parse_first(apr_table_t **ptab, const char **pdup, apr_pool_t *p,
                                  const char *data, apr_size_t len, int max_pairs);

#endif
