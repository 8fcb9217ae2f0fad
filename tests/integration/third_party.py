"""Helpers of the third-party tests (test_500 mod_auth_openidc, test_510 mod_oauth2)."""

import os

from harness import MODULES_DIR, free_port


def second_port(h):
    """A port for a second virtual host of Httpd h, new whenever the harness picked new ports
    (it does when a Listen failed with 'Address already in use' and it retries the start)."""
    key = (h.port, h.tls_port)
    if getattr(h, "_second_port_for", None) != key:
        p = free_port()
        while p in key:
            p = free_port()
        h._second_port, h._second_port_for = p, key
    return h._second_port


def mod_oauth2_vhost(h, page, paths, locations, tls=""):
    """The resource server of the mod_oauth2 tests: a TLS virtual host of h on second_port(h)
    (h.rs_port, h.rs_url) serving page, a JSON mod_include page, at /api/<path>/ for each of
    paths behind locations (config text); tls: more mod_ssl lines for the host."""
    h.rs_port = second_port(h)
    h.rs_url = f"https://localhost:{h.rs_port}"
    docs = h.path("rs-htdocs")
    os.makedirs(docs, exist_ok=True)
    with open(os.path.join(docs, "api.shtml"), "w") as f:
        f.write(page)
    return f"""
LoadModule oauth2_module {MODULES_DIR}/mod_oauth2.so
LoadModule include_module {MODULES_DIR}/mod_include.so

Listen 127.0.0.1:{h.rs_port}
<VirtualHost 127.0.0.1:{h.rs_port}>
    ServerName localhost:{h.rs_port}
    SSLEngine on
    {tls}
    DocumentRoot "{docs}"
    <Directory "{docs}">
        Require all granted
        Options +Includes
        AddOutputFilter INCLUDES .shtml
        ForceType application/json
    </Directory>
    AliasMatch "^/api/({'|'.join(paths)})/$" "{docs}/api.shtml"
{locations}
</VirtualHost>
"""
