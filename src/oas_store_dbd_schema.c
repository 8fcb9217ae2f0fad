/* mod_oauth_as: the tables of the database store (oas_store_dbd.h): creating them, upgrading
 * an older schema in place (several processes and hosts may do it at once), and their upkeep
 * on a connection of one's own (purge, trim) and for server-status. Core file: APR-util only. */
#include <apr_strings.h>
#include <stdlib.h>
#include <string.h>

#include "oas_store_dbd.h"
#include "oas_store_dbd_sql.h"

/* The same DDL is valid for sqlite3 and pgsql (conf/schema-*.sql are copies for admins).
 * A new database gets the current tables; one at version 1 is upgraded by upgrade[]. */
static const char *const ddl[] = {
    "CREATE TABLE IF NOT EXISTS oauth_as_schema (version INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS " T " (k CHAR(64) PRIMARY KEY, v TEXT NOT NULL, "
    "exp BIGINT NOT NULL, c INTEGER NOT NULL DEFAULT 0, n BIGINT NOT NULL DEFAULT 0)",
    "CREATE INDEX IF NOT EXISTS oauth_as_store_exp ON " T " (exp)",
    "CREATE INDEX IF NOT EXISTS oauth_as_store_class ON " T " (c, exp, k)",
    "INSERT INTO oauth_as_schema (version) SELECT " STR(OAS_DBD_SCHEMA_VERSION)
    " WHERE NOT EXISTS (SELECT 1 FROM oauth_as_schema)",
    NULL};

/* Version 1 -> 2: the class and counter columns. Two processes or hosts may run this at
 * once: an ADD COLUMN that loses (the column exists) fails harmlessly, the columns are then
 * checked by upgrade_schema(), and only then is the version raised (idempotent). Rows written
 * before are live (c = 0): they expire as before. */
static const char *const upgrade[] = {
    "ALTER TABLE " T " ADD COLUMN c INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE " T " ADD COLUMN n BIGINT NOT NULL DEFAULT 0",
    "CREATE INDEX IF NOT EXISTS oauth_as_store_class ON " T " (c, exp, k)",
    NULL};

/* The highest schema version recorded, or -1 when the table cannot be read. */
static int schema_version(apr_pool_t *p, const apr_dbd_driver_t *driver, apr_dbd_t *handle)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    int version = -1;
    int rc;

    if (apr_dbd_select(driver, p, handle, &res, "SELECT version FROM oauth_as_schema", 0))
        return -1;
    while ((rc = apr_dbd_get_row(driver, p, res, &row, -1)) == 0) {
        const char *s = apr_dbd_get_entry(driver, row, 0);
        int v = s ? atoi(s) : 0;
        if (v > version)
            version = v;
    }
    return rc == -1 ? version : -1;
}

/* Version 1 -> current (see upgrade[]); NULL when done, else what failed. */
static const char *upgrade_schema(apr_pool_t *p, const apr_dbd_driver_t *driver,
                                  apr_dbd_t *handle)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    const char *failed = NULL;
    int nrows;
    int rc;
    int i;

    for (i = 0; upgrade[i]; i++) {
        if ((rc = apr_dbd_query(driver, handle, &nrows, upgrade[i])) != 0 && !failed)
            failed = apr_pstrcat(p, upgrade[i], ": ", apr_dbd_error(driver, handle, rc), NULL);
    }
    /* whoever added them, the columns must be there now */
    if ((rc = apr_dbd_select(driver, p, handle, &res,
                             "SELECT c, n FROM " T " WHERE 1 = 0", 0)) != 0)
        return failed ? failed : apr_dbd_error(driver, handle, rc);
    while (apr_dbd_get_row(driver, p, res, &row, -1) == 0)
        ;
    if ((rc = apr_dbd_query(driver, handle, &nrows,
                            "UPDATE oauth_as_schema SET version = " STR(OAS_DBD_SCHEMA_VERSION)
                            " WHERE version < " STR(OAS_DBD_SCHEMA_VERSION))) != 0)
        return apr_pstrcat(p, "UPDATE oauth_as_schema: ", apr_dbd_error(driver, handle, rc),
                           NULL);
    return NULL;
}

apr_status_t oas_dbd_schema_ensure(const char **perr, apr_pool_t *p,
                                   const apr_dbd_driver_t *driver, apr_dbd_t *handle)
{
    const char *failed = NULL;
    int version;
    int nrows;
    int rc;
    int i;

    *perr = NULL;
    if (!strcmp(apr_dbd_name(driver), "sqlite3")) {
        apr_dbd_results_t *res = NULL;
        apr_dbd_row_t *row = NULL;
        apr_dbd_query(driver, handle, &nrows, OAS_SQLITE_BUSY_TIMEOUT);
        /* readers do not block the writer; the mode sticks to the file */
        if (!apr_dbd_select(driver, p, handle, &res, "PRAGMA journal_mode=WAL", 0))
            while (apr_dbd_get_row(driver, p, res, &row, -1) == 0)
                ;
    }
    /* the usual case, read only: no write lock taken while other processes start up */
    version = schema_version(p, driver, handle);
    if (version == OAS_DBD_SCHEMA_VERSION)
        return APR_SUCCESS;
    for (i = 0; version < 1 && ddl[i] && !failed; i++) {
        if ((rc = apr_dbd_query(driver, handle, &nrows, ddl[i])) != 0)
            failed = apr_pstrcat(p, ddl[i], ": ", apr_dbd_error(driver, handle, rc), NULL);
    }
    /* a CREATE that lost a race with another process fails, yet the tables are there */
    if (version < 1)
        version = schema_version(p, driver, handle);
    if (version >= 1 && version < OAS_DBD_SCHEMA_VERSION) {
        failed = upgrade_schema(p, driver, handle);
        version = schema_version(p, driver, handle);
    }
    if (version < 0) {
        *perr = failed ? failed : "cannot read oauth_as_schema";
        return APR_EGENERAL;
    }
    if (version > OAS_DBD_SCHEMA_VERSION) {
        *perr = apr_psprintf(p, "the database has schema version %d, this module knows %d",
                             version, OAS_DBD_SCHEMA_VERSION);
        return APR_EINVAL;
    }
    if (version < OAS_DBD_SCHEMA_VERSION) {
        *perr = version == 0 ? "oauth_as_schema is empty"
                             : apr_psprintf(p, "cannot upgrade the schema from version %d: %s",
                                            version, failed ? failed : "unknown error");
        return APR_EGENERAL;
    }
    return APR_SUCCESS;
}

apr_status_t oas_dbd_purge_expired(int *pn, int *ptrimmed, apr_int64_t cap, apr_pool_t *p,
                                   const apr_dbd_driver_t *driver, apr_dbd_t *handle)
{
    int nrows = 0;
    /* our own integers in the text: no outside input reaches these statements */
    const char *sql = apr_psprintf(p, "DELETE FROM " T " WHERE exp <= %" APR_TIME_T_FMT,
                                   apr_time_now());
    int rc = apr_dbd_query(driver, handle, &nrows, sql);

    if (pn)
        *pn = nrows;
    if (rc)
        return APR_EGENERAL;
    if (cap > 0) {
        sql = apr_psprintf(p, TRIM_SQL "%" APR_INT64_T_FMT ")", cap);
        nrows = 0;
        if (apr_dbd_query(driver, handle, &nrows, sql))
            return APR_EGENERAL;
        if (ptrimmed)
            *ptrimmed += nrows;
    }
    return APR_SUCCESS;
}

apr_status_t oas_dbd_usage(oas_dbd_usage_t *u, apr_pool_t *p, const apr_dbd_driver_t *driver,
                           apr_dbd_t *handle)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    int rc;

    memset(u, 0, sizeof(*u));
    /* expired rows not yet purged are counted: they take their room until then */
    if (apr_dbd_select(driver, p, handle, &res,
                       "SELECT c, COUNT(*), SUM(LENGTH(v)) FROM " T " GROUP BY c", 1))
        return APR_EGENERAL;
    while ((rc = apr_dbd_get_row(driver, p, res, &row, -1)) == 0) {
        const char *cls = apr_dbd_get_entry(driver, row, 0);
        const char *n = apr_dbd_get_entry(driver, row, 1);
        const char *b = apr_dbd_get_entry(driver, row, 2);
        int k = cls && atoi(cls) == OAS_STORE_BEST_EFFORT ? OAS_STORE_BEST_EFFORT : OAS_STORE_LIVE;

        u->rows[k] += n ? apr_atoi64(n) : 0;
        /* the value, the 64-digit key and the two integers */
        u->bytes[k] += (b ? apr_atoi64(b) : 0) + (n ? apr_atoi64(n) : 0) * (64 + 8 + 8 + 4);
    }
    return rc == -1 ? APR_SUCCESS : APR_EGENERAL;
}
