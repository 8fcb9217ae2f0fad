/* mod_oauth_as: the AS session's cookie, OAuthASLoginURL and the site's sign-in through
 * mod_session (README "Sessions").
 *
 * How the AS knows that the user really signed in again (prompt=login, max_age): when it sends
 * the browser to OAuthASLoginURL it removes the site's sign-in (mod_auth_form's
 * "<AuthName>-user", "-pw" and "-site" entries) from the browser's mod_session session and
 * writes a one-time marker (the sign-in transaction) beside it, in the same response. When the
 * browser comes back to /authorize with that transaction, httpd has a user only if the site
 * signed one in since (the session that left had none), and the marker proves that this session
 * is the one that left: an older copy of the session (a saved cookie of mod_session_cookie, still
 * carrying the user) has no marker, and the marker alone carries no user. mod_session_crypto
 * keeps both from being forged. Both ends check that the request's user is the one the session
 * carries: with HTTP Basic there is no sign-in in the session to drop (the browser resends its
 * cached credentials, even beside a mod_session session), so login_required is the only honest
 * answer. */
#include "mod_oas_private.h"

#include <apr_optional.h>
#include <apr_strings.h>
#include <http_core.h>
#include <mod_session.h>
#include <util_cookies.h>

#include "mod_oas_directives.h"
#include "mod_oas_session.h"
#include "oas_session.h"
#include "oas_util.h"

#define ATTRS "; Path=/; Secure; HttpOnly; SameSite=Lax"
#define REAUTH_KEY "oauth_as-login"

const char *oas_mod_session_cookie(request_rec *r)
{
    const char *v = NULL;

    if (ap_cookie_read(r, OAS_SESSION_COOKIE, &v, 0) != APR_SUCCESS || !v || !*v)
        return NULL;
    return v;
}

void oas_mod_session_set(request_rec *r, const char *value, apr_int64_t max_age)
{
    apr_table_addn(r->err_headers_out, "Set-Cookie",
                   apr_psprintf(r->pool,
                                OAS_SESSION_COOKIE "=%s" ATTRS "; Max-Age=%" APR_INT64_T_FMT, value,
                                max_age > 0 ? max_age : 0));
}

void oas_mod_session_clear(request_rec *r)
{
    apr_table_addn(r->err_headers_out, "Set-Cookie", OAS_SESSION_COOKIE "=" ATTRS "; Max-Age=0");
}

int oas_mod_session_available(void)
{
    return APR_RETRIEVE_OPTIONAL_FN(ap_session_load) && APR_RETRIEVE_OPTIONAL_FN(ap_session_set) &&
           APR_RETRIEVE_OPTIONAL_FN(ap_session_get);
}

/* The browser's mod_session session, or NULL (mod_session not loaded, or Session Off here). */
static session_rec *site_session(request_rec *r)
{
    APR_OPTIONAL_FN_TYPE(ap_session_load) *load = APR_RETRIEVE_OPTIONAL_FN(ap_session_load);
    session_rec *z = NULL;

    if (!oas_mod_session_available() || load(r, &z) != APR_SUCCESS)
        return NULL;
    return z;
}

/* 1 when the site's sign-in of this request is the one mod_auth_form keeps in session z (its
 * "<AuthName>-user" entry names r->user): only then can dropping it end the sign-in. HTTP Basic
 * beside a mod_session session is not such a sign-in (the browser resends its credentials). */
static int signed_in_by_session(request_rec *r, session_rec *z)
{
    APR_OPTIONAL_FN_TYPE(ap_session_get) *get = APR_RETRIEVE_OPTIONAL_FN(ap_session_get);
    const char *realm = ap_auth_name(r), *user = NULL;

    return realm && r->user &&
           get(r, z, apr_pstrcat(r->pool, realm, "-" MOD_SESSION_USER, NULL), &user) ==
               APR_SUCCESS &&
           user && !strcmp(user, r->user);
}

int oas_mod_session_reauth_begin(request_rec *r, const char *txn)
{
    APR_OPTIONAL_FN_TYPE(ap_session_set) *set = APR_RETRIEVE_OPTIONAL_FN(ap_session_set);
    static const char *const what[] = {"-" MOD_SESSION_USER, "-" MOD_SESSION_PW, "-site"};
    session_rec *z = site_session(r);
    int i;

    if (!z || !signed_in_by_session(r, z))
        return 0;
    for (i = 0; i < 3; i++)
        set(r, z, apr_pstrcat(r->pool, ap_auth_name(r), what[i], NULL), NULL);
    set(r, z, REAUTH_KEY, txn);
    return 1;
}

int oas_mod_session_reauth_done(request_rec *r, const char *txn)
{
    APR_OPTIONAL_FN_TYPE(ap_session_get) *get = APR_RETRIEVE_OPTIONAL_FN(ap_session_get);
    APR_OPTIONAL_FN_TYPE(ap_session_set) *set = APR_RETRIEVE_OPTIONAL_FN(ap_session_set);
    session_rec *z = site_session(r);
    const char *mark = NULL;

    if (!z || get(r, z, REAUTH_KEY, &mark) != APR_SUCCESS || !mark)
        return 0;
    set(r, z, REAUTH_KEY, NULL);
    return signed_in_by_session(r, z) && oas_secure_streq(mark, txn);
}

/* OAuthASLoginURL: a local path or an https URL, without a fragment. */
const char *oas_cmd_login_url(cmd_parms *cmd, void *mconfig, const char *arg)
{
    const char *err = oas_cmd_check_place(cmd, mconfig, OAS_IN_SERVER);
    apr_uri_t u;

    if (err)
        return err;
    if (strchr(arg, '#') || strpbrk(arg, " \t\r\n\"<>\\") ||
        apr_uri_parse(cmd->pool, arg, &u) != APR_SUCCESS ||
        !(arg[0] == '/' ? arg[1] != '/' && !u.scheme
                        : u.scheme && !strcasecmp(u.scheme, "https") && u.hostname && *u.hostname))
        return apr_psprintf(cmd->pool,
                            OAS_DIR_LOGIN_URL ": '%s' is neither a local path (/login) nor an "
                                              "https URL without a fragment",
                            arg);
    oas_cmd_issuer(cmd)->login_url = arg;
    return NULL;
}
