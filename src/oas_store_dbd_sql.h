/* mod_oauth_as: the SQL shared by the database store's files (oas_store_dbd.c: the
 * statements of requests; oas_store_dbd_schema.c: the tables and their upkeep). Internal. */
#ifndef OAS_STORE_DBD_SQL_H
#define OAS_STORE_DBD_SQL_H

#include "oas_store.h"

/* k is the hex SHA-256 of (namespace byte || key): the database never sees a secret.
 * exp is apr_time_t (microseconds since the epoch). v is 't' + the value when it is clean
 * UTF-8 (the JSON we store, readable by an administrator), else 'b' + base64. */
#define T "oauth_as_store"
/* apr_dbd_pgsql declares %s parameters as varchar: times are cast (a no-op for SQLite) */
#define TM "CAST(%s AS BIGINT)"
#define TC "CAST(%s AS INTEGER)"
/* The trim (oauth_as_trim, and the purge thread's), up to its OFFSET: c = 1 is
 * OAS_STORE_BEST_EFFORT. */
#define TRIM_SQL                                                                                  \
    "DELETE FROM " T " WHERE c = 1 AND (exp, k) <= (SELECT exp, k FROM " T " WHERE c = 1 "        \
    "ORDER BY exp DESC, k DESC LIMIT 1 OFFSET "
typedef char best_effort_is_1[OAS_STORE_BEST_EFFORT == 1 ? 1 : -1];
#define STR_(x) #x
#define STR(x) STR_(x)

#endif
