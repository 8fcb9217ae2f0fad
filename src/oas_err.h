/* mod_oauth_as: OAuth protocol failures as values (STYLE.md C4). The glue renders them
 * once, at the edge: JSON at the token and PAR endpoints (RFC 6749 §5.2), a redirect or an
 * error page at the authorization endpoint (RFC 6749 §4.1.2.1). */
#ifndef OAS_ERR_H
#define OAS_ERR_H

typedef struct oas_err_t {
    int status;              /* HTTP status for JSON errors: 400, 401, 503 */
    const char *error;       /* RFC error code; NULL = no error */
    const char *description; /* client-visible, our own text (RFC 6749 §5.2 charset) */
    int page;                /* authorize only: the redirect target is not trusted */
} oas_err_t;

#define OAS_ERR_SET(e, st, code, desc)                                                            \
    do {                                                                                        \
        (e)->status = (st);                                                                     \
        (e)->error = (code);                                                                    \
        (e)->description = (desc);                                                              \
        (e)->page = 0;                                                                          \
    } while (0)

#endif
