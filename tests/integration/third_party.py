"""Helpers of the third-party tests (test_500 mod_auth_openidc, test_510 mod_oauth2)."""

from harness import free_port


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
