"""The standard OAuth test deployment (SECURITY.md §5.1), in INTERFACE.md's directive names.

    h = httpd_factory(standard_conf)                          # the fixture as is
    h = httpd_factory(lambda h: standard_conf(h, OAuthASCodeLifetime=5))
    h = httpd_factory(lambda h: standard_conf(h, OAuthASStore="dbd", extra=sqlite_dbd(h)))

The issuer is the test server's own https URL (https://localhost:<tls_port>), not
https://as.test, because clients must reach it; compare it exactly, via `h.issuer`.
"""

import base64
import hashlib
import os
import shutil

from harness import session_key

# Users of the htpasswd file protecting /authorize.
USERS = {"alice": "alice-password", "bob": "bob-password"}

# Client secrets (plaintext in the config; tests grep logs for them, SECURITY.md U5).
CONF1_SECRET = "conf1-secret-4a7f0c"
CONF2_SECRET = "conf2-secret-9b21de"
PARREQ_SECRET = "parreq-secret-51c3aa"
FP1_SECRET = "fp1-secret-e08d17"
SVC1_SECRET = "svc1-secret-7d6e02"

RESOURCE = "urn:test:api"

# What tests need to know about each client, matching the config below.
CLIENTS = {
    "conf1": {"secret": CONF1_SECRET, "auth": "client_secret_basic",
              "redirect_uris": ["https://rp1.test/cb"]},
    "conf2": {"secret": CONF2_SECRET, "auth": "client_secret_post",
              "redirect_uris": ["https://rp2.test/cb", "https://rp2.test/cb?tenant=a"]},
    "pub1": {"secret": None, "auth": "none", "redirect_uris": ["https://spa.test/cb"]},
    "parreq": {"secret": PARREQ_SECRET, "auth": "client_secret_basic",
               "redirect_uris": ["https://rp3.test/cb"]},
    "fp1": {"secret": FP1_SECRET, "auth": "client_secret_basic",
            "redirect_uris": ["https://fp.test/cb"]},
    # A resource server / service client: client_credentials and introspection.
    "svc1": {"secret": SVC1_SECRET, "auth": "client_secret_basic", "redirect_uris": []},
}

# Where INTERFACE.md mounts each endpoint (kind -> path); discovery must publish these.
ENDPOINTS = {
    "/authorize": "authorize",
    "/oauth/par": "par",
    "/oauth/token": "token",
    "/.well-known/openid-configuration": "metadata",
    "/.well-known/oauth-authorization-server": "metadata",
    "/.well-known/jwks.json": "jwks",
    "/userinfo": "userinfo",
    "/oauth/revoke": "revoke",
    "/oauth/introspect": "introspect",
}

# Server-level defaults; a keyword override replaces one (None drops it).
SERVER_DEFAULTS = {
    "OAuthASStoreSize": "10000",
}


def write_htpasswd(path, users=USERS):
    """{SHA} entries (mod_authn_file reads them; no apache2-utils, no bcrypt cost per request).
    Written to a temporary file and renamed: standard_conf runs again at every graceful
    restart of the harness, and children read the file at every request meanwhile (a
    truncated file would answer 401)."""
    with open(path + ".tmp", "w") as f:
        for user, pw in users.items():
            digest = base64.b64encode(hashlib.sha1(pw.encode()).digest()).decode()
            f.write(f"{user}:{{SHA}}{digest}\n")
    os.chmod(path + ".tmp", 0o644)
    os.replace(path + ".tmp", path)
    return path


# mod_status's page for the local client (load the module: extra_modules=("status",)).
STATUS_CONF = """
<Location /server-status>
    SetHandler server-status
    Require local
</Location>
"""


def sqlite_dbd(h):
    """mod_dbd on sqlite3 in the server's datadir (writable by the children)."""
    # DBDMin 0: mod_dbd opens no connection in child_init, where a SQLite file locked for a
    # moment by another process fails the child with AH00636 (requests wait for the lock)
    return f'DBDriver sqlite3\nDBDParams "{h.datadir}/oas.sqlite"\nDBDMin 0\n'


def signing_key(h, kind):
    """Copy the session's `kind` key ('es256', 'rsa', 'ed25519') into h's conf/; its path."""
    dst = h.path("conf", f"signing-{kind}.pem")
    shutil.copyfile(session_key(kind), dst)
    return dst


CLIENTS_CONF = """
<OAuthASClient conf1>
    OAuthASClientSecret "{conf1}"
    OAuthASAuthMethod client_secret_basic
    OAuthASRedirectURI https://rp1.test/cb
    OAuthASScope openid profile email offline_access api.read
    OAuthASGrantType authorization_code refresh_token
    OAuthASAudience urn:test:api
</OAuthASClient>
<OAuthASClient conf2>
    OAuthASClientSecret "{conf2}"
    OAuthASAuthMethod client_secret_post
    OAuthASRedirectURI https://rp2.test/cb
    OAuthASRedirectURI "https://rp2.test/cb?tenant=a"
    OAuthASScope openid profile email
    OAuthASGrantType authorization_code
</OAuthASClient>
<OAuthASClient pub1>
    OAuthASAuthMethod none
    OAuthASRedirectURI https://spa.test/cb
    OAuthASScope openid profile email offline_access api.read
    OAuthASGrantType authorization_code refresh_token
    OAuthASAudience urn:test:api
</OAuthASClient>
<OAuthASClient parreq>
    OAuthASClientSecret "{parreq}"
    OAuthASAuthMethod client_secret_basic
    OAuthASRedirectURI https://rp3.test/cb
    OAuthASScope openid profile
    OAuthASGrantType authorization_code
    OAuthASRequirePAR On
</OAuthASClient>
<OAuthASClient fp1>
    OAuthASClientSecret "{fp1}"
    OAuthASAuthMethod client_secret_basic
    OAuthASRedirectURI https://fp.test/cb
    OAuthASScope openid profile email
    OAuthASGrantType authorization_code
    OAuthASConsent Off
</OAuthASClient>
<OAuthASClient svc1>
    OAuthASClientSecret "{svc1}"
    OAuthASAuthMethod client_secret_basic
    OAuthASScope api.read
    OAuthASGrantType client_credentials
    OAuthASAudience urn:test:api
    OAuthASIntrospection On
</OAuthASClient>

<OAuthASResource urn:test:api>
    OAuthASScope api.read api.write
</OAuthASResource>
"""


def endpoints_conf(htpasswd):
    out = []
    for path, kind in ENDPOINTS.items():
        out.append(f"<Location {path}>\n    OAuthASEndpoint {kind}")
        if kind == "authorize":
            out.append('    AuthType Basic\n    AuthName "oauth-as test"\n'
                       f'    AuthUserFile "{htpasswd}"\n    Require valid-user')
        out.append("</Location>")
    return "\n".join(out) + "\n"


def standard_conf(h, keys=("es256",), extra="", clients=True, **overrides):
    """Config body for Httpd h.  keys: signing keys in order (the first signs access tokens);
    overrides: server-level directives, e.g. OAuthASCodeLifetime=5 (None removes a default);
    extra: text appended at the end (more clients, DBD settings, ...)."""
    directives = dict(SERVER_DEFAULTS)
    directives.update(overrides)
    lines = [f'OAuthASIssuer "{h.issuer}"']
    lines += [f'OAuthASSigningKey "{signing_key(h, k)}"' for k in keys]
    lines += [f"{k} {v}" for k, v in directives.items() if v is not None]
    lines += ['OAuthASClaim email "%{REMOTE_USER}@example.test"',
              'OAuthASClaim name "%{REMOTE_USER}"']
    htpasswd = write_htpasswd(h.path("conf", "users.htpasswd"))
    text = "\n".join(lines) + "\n"
    if clients:
        text += CLIENTS_CONF.format(conf1=CONF1_SECRET, conf2=CONF2_SECRET,
                                    parreq=PARREQ_SECRET, fp1=FP1_SECRET, svc1=SVC1_SECRET)
    text += endpoints_conf(htpasswd)
    # SECURITY.md §5.1: LimitRequestBody 65536 on /oauth/*.
    text += "<Location /oauth/>\n    LimitRequestBody 65536\n</Location>\n"
    return text + extra
