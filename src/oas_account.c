/* mod_oauth_as: the user's page of allowed applications (oas_account.h).
 *
 * The record: {"apps": {"<client id>": {"s": scopes, "f": first, "l": last,
 * "g": [[exp, consent key], ...], "fam": [[exp, family id], ...], "at": [[exp, jti], ...]}}},
 * lists oldest first. A family id is as secret as a refresh token's first half: the family's
 * own record already keeps it (in its grant), and it reaches no log and no page from here. */
#include <stdlib.h>

#include <apr_lib.h>
#include <apr_strings.h>
#include <apr_time.h>

#include "oas_account.h"
#include "oas_account_default.h"
#include "oas_authz.h"
#include "oas_clients.h"
#include "oas_consent.h"
#include "oas_consent_txn.h"
#include "oas_json.h"
#include "oas_refresh.h"
#include "oas_util.h"

/* The lock: held for one read and one write of the record; a holder that died frees it after
 * LOCK_SECS. A request waits at most LOCK_TRIES * LOCK_WAIT for it. */
#define LOCK_SECS 10
#define LOCK_TRIES 50
#define LOCK_WAIT apr_time_from_msec(2)

/* the record's member of each kind, in the order of kind_index */
static const char *const kinds[] = {"g", "fam", "at"};

static int kind_index(int kind)
{
    return kind == OAS_ACCOUNT_CONSENT ? 0 : kind == OAS_ACCOUNT_FAMILY ? 1 : 2;
}

/* the item of a list entry [exp, item] ("" when it is not a string) */
static const char *item_of(const json_t *entry)
{
    const char *s = json_string_value(json_array_get(entry, 1));

    return s ? s : "";
}

static apr_int64_t exp_of(const json_t *entry)
{
    return (apr_int64_t)json_integer_value(json_array_get(entry, 0));
}

int oas_account_on(const oas_issuer_t *iss)
{
    return iss->endpoints[OAS_EP_ACCOUNT] != NULL;
}

static const char *record_key(oas_ctx_t *x, const char *user)
{
    return apr_pstrcat(x->p, x->iss->issuer, "\n", user, NULL);
}

static apr_status_t lock(oas_ctx_t *x, oas_store_t *st, const char *key)
{
    apr_status_t rv = APR_EEXIST;
    int i;

    for (i = 0; i < LOCK_TRIES && rv == APR_EEXIST; i++) {
        if (i)
            apr_sleep(LOCK_WAIT);
        rv = oas_store_put_new(st, x->p, OAS_NS_ACCOUNT_LOCK, key, "", 0,
                               apr_time_from_sec(x->now + LOCK_SECS));
    }
    return rv == APR_EEXIST ? APR_TIMEUP : rv;
}

static void unlock(oas_ctx_t *x, oas_store_t *st, const char *key)
{
    oas_store_del(st, x->p, OAS_NS_ACCOUNT_LOCK, key);
}

/* The user's record ({"apps": {}} when there is none). One that cannot be read is logged and
 * started anew: what it listed stays revocable by its client and expires by itself. */
static apr_status_t record_read(json_t **prec, oas_ctx_t *x, oas_store_t *st, const char *key)
{
    char *v;
    apr_size_t n;
    apr_status_t rv = oas_store_get(st, x->p, OAS_NS_ACCOUNT, key, &v, &n);

    if (rv == APR_SUCCESS && (oas_json_parse(prec, x->p, v, n) != APR_SUCCESS ||
                              !json_is_object(json_object_get(*prec, "apps")))) {
        OAS_CTX_LOG(x, OAS_LOG_ERR, 0,
                    OAS_LOGNO(07051) "the account record of a user is unreadable: started anew");
        rv = APR_NOTFOUND;
    }
    if (rv == APR_NOTFOUND) {
        *prec = oas_json_adopt(x->p, json_pack("{s:{}}", "apps"));
        return *prec ? APR_SUCCESS : APR_ENOMEM;
    }
    return rv;
}

/* Writes the record (removed when it lists nothing), kept until its last item expires. */
static apr_status_t record_write(oas_ctx_t *x, oas_store_t *st, const char *key, json_t *rec)
{
    json_t *apps = json_object_get(rec, "apps"), *app, *list, *entry;
    const char *name, *v;
    apr_int64_t until = x->now + 1;
    size_t i, k;

    json_object_foreach(apps, name, app) {
        for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
            list = json_object_get(app, kinds[k]);
            json_array_foreach(list, i, entry) {
                if (exp_of(entry) > until)
                    until = exp_of(entry);
            }
        }
    }
    if (!json_object_size(apps)) {
        apr_status_t rv = oas_store_del(st, x->p, OAS_NS_ACCOUNT, key);
        return rv == APR_NOTFOUND ? APR_SUCCESS : rv;
    }
    if (!(v = oas_json_dumps(x->p, rec, 0)))
        return APR_ENOMEM;
    if (strlen(v) > OAS_STORE_MAX_VALUE)
        return APR_ENOSPC;
    return oas_store_put(st, x->p, OAS_NS_ACCOUNT, key, v, strlen(v), apr_time_from_sec(until));
}

/* Drops the items of app that expired; 1 when it still lists one. */
static int prune(json_t *app, apr_int64_t now)
{
    json_t *list;
    size_t k, i;
    int left = 0;

    for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
        if (!(list = json_object_get(app, kinds[k])))
            continue;
        for (i = json_array_size(list); i-- > 0;)
            if (exp_of(json_array_get(list, i)) <= now)
                json_array_remove(list, i);
        left += (int)json_array_size(list);
    }
    return left > 0;
}

/* The union of two scope strings, sorted. */
static const char *scope_union(apr_pool_t *p, const char *a, const char *b)
{
    apr_array_header_t *s = oas_scope_split(p, a ? a : "");
    apr_array_header_t *more = oas_scope_split(p, b ? b : "");
    int i;

    for (i = 0; i < more->nelts; i++)
        if (!oas_list_has(s, APR_ARRAY_IDX(more, i, const char *)))
            APR_ARRAY_PUSH(s, const char *) = APR_ARRAY_IDX(more, i, const char *);
    qsort(s->elts, s->nelts, sizeof(const char *), oas_cmp_strp);
    return apr_array_pstrcat(p, s, ' ');
}

static void revoke_jti(oas_ctx_t *x, oas_store_t *st, const char *jti, apr_int64_t exp,
                       apr_status_t *prv)
{
    apr_status_t rv =
        oas_store_put(st, x->p, OAS_NS_REVOKED, jti, "", 0, apr_time_from_sec(exp + 1));

    if (rv != APR_SUCCESS)
        *prv = rv;
}

/* Ends one item of kind (as the revoke button does); a failure to record it in *prv. */
static void end_item(oas_ctx_t *x, oas_store_t *st, int kind, const char *item, apr_int64_t exp,
                     apr_status_t *prv)
{
    apr_status_t rv;

    if (kind == OAS_ACCOUNT_FAMILY)
        oas_refresh_revoke_family(x, item, "revoked on the user's account page");
    else if (kind == OAS_ACCOUNT_TOKEN)
        revoke_jti(x, st, item, exp, prv);
    else if ((rv = oas_store_del(st, x->p, OAS_NS_CONSENT, item)) != APR_SUCCESS &&
             rv != APR_NOTFOUND)
        *prv = rv;
}

/* Adds [exp, item] to the list of kind in app (an item already there keeps the later exp);
 * beyond the list's bound its oldest item is ended. */
static apr_status_t list_add(oas_ctx_t *x, oas_store_t *st, json_t *app, int kind, const char *item,
                             apr_int64_t exp)
{
    static const size_t max[] = {OAS_ACCOUNT_CONSENTS_MAX, OAS_ACCOUNT_FAMILIES_MAX,
                                 OAS_ACCOUNT_TOKENS_MAX};
    const char *m = kinds[kind_index(kind)];
    json_t *list = json_object_get(app, m), *it, *old;
    apr_status_t rv = APR_SUCCESS;
    size_t i;

    if (!list && json_object_set_new(app, m, (list = json_array())))
        return APR_ENOMEM;
    json_array_foreach(list, i, it) {
        if (!strcmp(item_of(it), item)) {
            if (exp_of(it) < exp)
                json_array_set_new(it, 0, json_integer(exp));
            return APR_SUCCESS;
        }
    }
    if (json_array_append_new(list, json_pack("[Is]", (json_int_t)exp, item)))
        return APR_ENOMEM;
    if (json_array_size(list) > max[kind_index(kind)]) {
        old = json_array_get(list, 0);
        end_item(x, st, kind, item_of(old), exp_of(old), &rv);
        OAS_CTX_LOG(x, OAS_LOG_INFO, rv,
                    OAS_LOGNO(07052) "the account record lists too many grants of one kind (%s) "
                                     "for an application: its oldest was ended",
                    m);
        json_array_remove(list, 0);
    }
    return rv;
}

apr_status_t oas_account_note(oas_ctx_t *x, const char *user, const char *client_id,
                              const char *scope, int kind, const char *item, apr_int64_t exp)
{
    oas_store_t *st = oas_ctx_store(x, OAS_CTX_LONG);
    const char *key, *name;
    json_t *rec, *apps, *app = NULL, *cur;
    void *tmp;
    apr_status_t rv;

    if (!st)
        return APR_ENOTIMPL;
    if (!user || !client_id || !item)
        return APR_EINVAL;
    key = record_key(x, user);
    if ((rv = lock(x, st, key)) != APR_SUCCESS)
        return rv;
    if ((rv = record_read(&rec, x, st, key)) == APR_SUCCESS) {
        apps = json_object_get(rec, "apps");
        json_object_foreach_safe(apps, tmp, name, cur) {
            if (!prune(cur, x->now) && strcmp(name, client_id))
                json_object_del(apps, name);
        }
        if (!(app = json_object_get(apps, client_id))) {
            app = json_pack("{sI}", "f", (json_int_t)x->now);
            if (!app || json_object_set_new(apps, client_id, app))
                rv = APR_ENOMEM;
        }
    }
    if (rv == APR_SUCCESS) {
        json_object_set_new(app, "l", json_integer(x->now));
        json_object_set_new(app, "s", json_string(scope_union(x->p, oas_json_str(app, "s"),
                                                              scope)));
        if ((rv = list_add(x, st, app, kind, item, exp)) == APR_SUCCESS)
            rv = record_write(x, st, key, rec);
    }
    unlock(x, st, key);
    return rv;
}

apr_status_t oas_account_note_grant(oas_err_t *e, oas_ctx_t *x, const oas_grant_t *g,
                                    const char *jti, apr_int64_t at_exp)
{
    apr_status_t rv;

    if (!oas_account_on(x->iss))
        return APR_SUCCESS;
    rv = oas_account_note(x, g->sub, g->client_id, g->scope,
                          g->family ? OAS_ACCOUNT_FAMILY : OAS_ACCOUNT_TOKEN,
                          g->family ? g->family : jti, g->family ? g->family_exp : at_exp);
    if (rv != APR_SUCCESS) {
        OAS_CTX_LOG(x, OAS_LOG_ERR, rv,
                    OAS_LOGNO(07053) "the account record of %s could not note client %s: "
                                     "no tokens issued",
                    g->sub, g->client_id);
        return oas_store_refused(x, e, rv, "recording the user's application");
    }
    return APR_SUCCESS;
}

/* ---- the page ---- */

/* 1 when item of kind still lives (its record is there, its jti not revoked). */
static int item_live(oas_ctx_t *x, oas_store_t *st, int kind, const char *item)
{
    const char *h;
    char *v;
    apr_size_t n;

    if (kind == OAS_ACCOUNT_FAMILY)
        return (h = oas_grant_handle(x->p, item)) &&
               oas_store_get(st, x->p, OAS_NS_FAMILY, h, &v, &n) == APR_SUCCESS;
    if (kind == OAS_ACCOUNT_TOKEN)
        return oas_store_get(st, x->p, OAS_NS_REVOKED, item, &v, &n) == APR_NOTFOUND;
    return oas_store_get(st, x->p, OAS_NS_CONSENT, item, &v, &n) == APR_SUCCESS;
}

static int live_count(oas_ctx_t *x, oas_store_t *st, json_t *app, int kind)
{
    json_t *list = json_object_get(app, kinds[kind_index(kind)]), *it;
    size_t i;
    int live = 0;

    json_array_foreach(list, i, it) {
        live += item_live(x, st, kind, item_of(it));
    }
    return live;
}

static int by_last(const void *a, const void *b)
{
    const oas_account_app_t *x = a, *y = b;

    return x->last < y->last ? 1 : x->last > y->last ? -1 : strcmp(x->client_id, y->client_id);
}

apr_status_t oas_account_list(apr_array_header_t **papps, oas_err_t *e, oas_ctx_t *x)
{
    oas_store_t *st = oas_ctx_store(x, OAS_CTX_LONG);
    const char *name;
    json_t *rec, *app;
    apr_status_t rv;

    *papps = apr_array_make(x->p, 8, sizeof(oas_account_app_t));
    if (!st)
        return oas_store_refused(x, e, APR_ENOTIMPL, "reading the user's applications");
    if ((rv = record_read(&rec, x, st, record_key(x, x->user))) != APR_SUCCESS)
        return oas_store_refused(x, e, rv, "reading the user's applications");
    json_object_foreach(json_object_get(rec, "apps"), name, app) {
        oas_account_app_t a = {name, oas_json_str(app, "s"), oas_json_int(app, "f", 0),
                               oas_json_int(app, "l", 0), 0, 0, 0};
        if (!prune(app, x->now))
            continue;
        a.consents = live_count(x, st, app, OAS_ACCOUNT_CONSENT);
        a.families = live_count(x, st, app, OAS_ACCOUNT_FAMILY);
        a.tokens = live_count(x, st, app, OAS_ACCOUNT_TOKEN);
        if (a.consents + a.families + a.tokens)
            APR_ARRAY_PUSH(*papps, oas_account_app_t) = a;
    }
    qsort((*papps)->elts, (*papps)->nelts, sizeof(oas_account_app_t), by_last);
    return APR_SUCCESS;
}

/* The page's CSRF token: one per user (a record in the short-lived store, key CSRF_PREFIX, the
 * issuer and the user), kept as long as the user keeps loading the page within
 * OAuthASConsentLifetime, so that reloads and tabs share it and a user holds one record
 * however often the page is shown. */
#define CSRF_PREFIX "account csrf\n"

static const char *csrf_key(oas_ctx_t *x)
{
    return apr_pstrcat(x->p, CSRF_PREFIX, x->iss->issuer, "\n", x->user, NULL);
}

apr_status_t oas_account_csrf(const char **pcsrf, oas_err_t *e, oas_ctx_t *x)
{
    oas_store_t *st = oas_ctx_store(x, OAS_CTX_SHORT);
    const char *key = csrf_key(x);
    apr_time_t until = apr_time_from_sec(x->now + oas_iss_consent_ttl(x->iss));
    char *v;
    apr_size_t n;
    apr_status_t rv;
    int i;

    if (!st)
        return oas_store_refused(x, e, APR_ENOTIMPL, "starting the account page");
    /* the user's token, its life extended; else a new one (two first loads at once: one
     * wins, the other reads it) */
    for (i = 0, rv = APR_EEXIST; i < 2 && rv == APR_EEXIST; i++) {
        if ((rv = oas_store_get(st, x->p, OAS_NS_TXN, key, &v, &n)) == APR_SUCCESS) {
            *pcsrf = v;
            rv = oas_store_put(st, x->p, OAS_NS_TXN, key, v, n, until);
        }
        else if (rv == APR_NOTFOUND) {
            if ((rv = oas_random_token(pcsrf, x->p, OAS_TOKEN_BYTES)) != APR_SUCCESS) {
                OAS_ERR_SET(e, 500, "server_error", "no random bytes");
                return rv;
            }
            rv = oas_store_put_new(st, x->p, OAS_NS_TXN, key, *pcsrf, strlen(*pcsrf), until);
        }
    }
    return rv == APR_SUCCESS ? rv : oas_store_refused(x, e, rv, "starting the account page");
}

static apr_status_t refused(oas_err_t *e, oas_ctx_t *x, const char *desc, const char *why)
{
    oas_err(e, x->p, 403, "access_denied", desc, OAS_LOG_INFO,
            OAS_LOGNO(07054) "account page: a revocation by user %s refused: %s",
            x->user ? x->user : "-", why);
    e->page = 1;
    return APR_EINVAL;
}

/* Ends every item of app (a failure to record one: *prv); counts them in n. */
static void end_app(oas_ctx_t *x, oas_store_t *st, json_t *app, int n[3], apr_status_t *prv)
{
    static const int k[] = {OAS_ACCOUNT_CONSENT, OAS_ACCOUNT_FAMILY, OAS_ACCOUNT_TOKEN};
    json_t *list, *it;
    size_t i, j;

    for (j = 0; j < 3; j++) {
        n[j] = 0;
        list = json_object_get(app, kinds[j]);
        json_array_foreach(list, i, it) {
            end_item(x, st, k[j], item_of(it), exp_of(it), prv);
            n[j]++;
        }
    }
}

apr_status_t oas_account_revoke(oas_err_t *e, oas_ctx_t *x, const oas_account_form_t *f)
{
    oas_store_t *sst = oas_ctx_store(x, OAS_CTX_SHORT), *st = oas_ctx_store(x, OAS_CTX_LONG);
    const char *key;
    char *u;
    apr_size_t n;
    json_t *rec, *app = NULL;
    int counts[3] = {0, 0, 0};
    apr_status_t rv, failed = APR_SUCCESS;

    if (!oas_consent_same_site(f->origin, f->site, f->our_origin))
        return refused(e, x, "The form was submitted from another site.",
                       apr_psprintf(x->p, "posted from another site (Origin %s, Sec-Fetch-Site %s)",
                                    f->origin ? f->origin : "-", f->site ? f->site : "-"));
    if (!f->csrf || !*f->csrf)
        return refused(e, x, "The form is incomplete (missing CSRF token).", "no CSRF token");
    if (!f->client_id || !*f->client_id) {
        OAS_ERR_SET(e, 400, "invalid_request", "The form names no application.");
        e->page = 1;
        return APR_EINVAL;
    }
    if (!sst || !st)
        return oas_store_refused(x, e, APR_ENOTIMPL, "revoking an application");
    if (!x->user)
        return refused(e, x, "The form does not belong to this user.", "no signed-in user");
    rv = oas_store_get(sst, x->p, OAS_NS_TXN, csrf_key(x), &u, &n);
    if (rv != APR_SUCCESS && rv != APR_NOTFOUND)
        return oas_store_refused(x, e, rv, "revoking an application");
    if (rv == APR_NOTFOUND || !oas_secure_streq(f->csrf, u))
        return refused(e, x,
                       "The form does not belong to this user or has expired. Please reload "
                       "the page.",
                       "unknown or expired CSRF token, or another user's");
    key = record_key(x, x->user);
    if ((rv = lock(x, st, key)) != APR_SUCCESS)
        return oas_store_refused(x, e, rv, "revoking an application");
    if ((rv = record_read(&rec, x, st, key)) == APR_SUCCESS &&
        (app = json_object_get(json_object_get(rec, "apps"), f->client_id))) {
        end_app(x, st, app, counts, &failed);
        if (failed == APR_SUCCESS) {
            json_object_del(json_object_get(rec, "apps"), f->client_id);
            rv = record_write(x, st, key, rec);
        }
    }
    unlock(x, st, key);
    if (rv == APR_SUCCESS)
        rv = failed;
    if (rv != APR_SUCCESS)
        return oas_store_refused(x, e, rv, "revoking an application");
    if (!app) {
        OAS_CTX_LOG(x, OAS_LOG_INFO, 0,
                    OAS_LOGNO(07057) "account page: user %s revoked client %s, which held "
                                     "nothing of theirs (any more)",
                    x->user, f->client_id);
        return APR_SUCCESS;
    }
    OAS_CTX_LOG(x, OAS_LOG_INFO, 0,
                OAS_LOGNO(07055) "account page: user %s revoked client %s (%d remembered "
                                 "consents, %d refresh families, %d access tokens)",
                x->user, f->client_id, counts[0], counts[1], counts[2]);
    return APR_SUCCESS;
}

const char *oas_account_default_template(void)
{
    return oas_account_default_html;
}

/* "6 December 2026" (UTC). */
static const char *day(apr_pool_t *p, apr_int64_t t)
{
    static const char *const months[] = {"January", "February", "March",     "April",
                                         "May",     "June",     "July",      "August",
                                         "September", "October", "November", "December"};
    apr_time_exp_t tm;

    if (apr_time_exp_gmt(&tm, apr_time_from_sec(t)) != APR_SUCCESS)
        return "";
    return apr_psprintf(p, "%d %s %d", tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900);
}

static const char *client_name(oas_ctx_t *x, const char *id)
{
    const oas_client_t *c = oas_ctx_client(x, id);

    return c && c->name ? c->name : id;
}

static void render_app(oas_ctx_t *x, oas_tmpl_vars_t *item, const oas_account_app_t *a)
{
    const char *name = client_name(x, a->client_id);

    oas_tmpl_set(item, "client_id", a->client_id);
    oas_tmpl_set(item, "client_name", name);
    oas_tmpl_set(item, "client_initial",
                 apr_psprintf(x->p, "%c", apr_isalnum(name[0]) ? apr_toupper(name[0]) : '?'));
    oas_tmpl_set(item, "first", day(x->p, a->first));
    oas_tmpl_set(item, "last", day(x->p, a->last));
    if (a->first != a->last && strcmp(day(x->p, a->first), day(x->p, a->last)))
        oas_tmpl_set(item, "last_differs", "1");
    if (a->families)
        oas_tmpl_set(item, "offline", "1");
    oas_consent_scopes(item, x->p, x->iss, a->scope);
}

const char *oas_account_render(oas_ctx_t *x, const oas_tmpl_t *t, const oas_account_view_t *v)
{
    oas_tmpl_vars_t *vars = oas_tmpl_vars_make(x->p);
    int i;

    oas_tmpl_set(vars, "user", v->user);
    oas_tmpl_set(vars, "action", v->action);
    oas_tmpl_set(vars, "csrf", v->csrf);
    oas_tmpl_set(vars, "issuer", x->iss->issuer);
    if (v->revoked)
        oas_tmpl_set(vars, "revoked", "1");
    if (v->apps && v->apps->nelts)
        oas_tmpl_set(vars, "has_apps", "1");
    for (i = 0; v->apps && i < v->apps->nelts; i++)
        render_app(x, oas_tmpl_list_add(vars, "apps"),
                   &APR_ARRAY_IDX(v->apps, i, const oas_account_app_t));
    return oas_tmpl_render(x->p, t, vars);
}
