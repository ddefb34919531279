"""Outbound webhooks go only to public addresses, in every spelling, and only to the address
that was checked: the connection is pinned, while Host, SNI and the certificate check keep the
name."""
from __future__ import annotations

import datetime as dt
import socket
import ssl
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from plugin.outbound.delivery import UnsafeDestination, blocked, check_destination, send
from plugin.outbound.signing import new_secret
from tests import loopback

REAL_GETADDRINFO = socket.getaddrinfo


@pytest.mark.parametrize("address", [
    "127.0.0.1", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254", "100.64.0.1",
    "0.0.0.0", "224.0.0.1", "255.255.255.255", "::1", "::", "fe80::1%eth0", "fc00::1",
    "::ffff:127.0.0.1", "::ffff:10.0.0.1",       # IPv4-mapped
    "::127.0.0.1", "::a9fe:a9fe",                 # IPv4-compatible (deprecated)
    "2002:7f00:1::1", "2002:a00:1::", "2002:c0a8:101::1", "2002:a9fe:a9fe::",  # 6to4
    "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "64:ff9b::a00:1",  # NAT64 well-known prefix
    "64:ff9b:1::a00:1",                           # NAT64 local-use prefix
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",       # Teredo
    "2001:0:a00:1:8000:63bf:f5ff:fffe",           # Teredo, server 10.0.0.1
])
def test_private_addresses_are_blocked_in_every_spelling(address):
    assert blocked(address)


@pytest.mark.parametrize("address", [
    "93.184.216.34", "8.8.8.8", "2606:2800:220:1:248:1893:25c8:1946",
    "64:ff9b::5db8:d822",      # NAT64 of 93.184.216.34
    "2002:5db8:d822::1",       # 6to4 of 93.184.216.34
    "::ffff:8.8.8.8",
])
def test_public_addresses_pass(address):
    assert not blocked(address)


def _resolving(monkeypatch, answers: dict[str, list[str]]) -> list[str]:
    """Make names resolve to scripted addresses (each lookup takes the next); IP literals and
    everything else resolve as usual. Returns the list of names looked up."""
    asked: list[str] = []

    def fake(host, port, *args, **kwargs):
        if host in answers:
            asked.append(host)
            address = answers[host].pop(0) if len(answers[host]) > 1 else answers[host][0]
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            return [(family, socket.SOCK_STREAM, 6, "", (address, port))]
        return REAL_GETADDRINFO(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return asked


@pytest.mark.parametrize("address", ["2002:7f00:1::1", "64:ff9b::a9fe:a9fe", "::ffff:10.1.1.1"])
def test_names_resolving_to_embedded_private_addresses_are_refused(monkeypatch, address):
    _resolving(monkeypatch, {"hooks.example": [address]})
    with pytest.raises(UnsafeDestination, match=address):
        check_destination("https://hooks.example/h", allow_private=False)


def test_a_public_name_passes_and_gives_the_address_to_use(monkeypatch):
    _resolving(monkeypatch, {"hooks.example": ["93.184.216.34"]})
    assert check_destination("https://hooks.example/h", allow_private=False) == "93.184.216.34"


def test_the_connection_goes_to_the_checked_address_not_a_second_answer(receiver, monkeypatch):
    """DNS rebinding: the first answer is checked, the second would point elsewhere. Only one
    lookup happens and the request reaches the first address, still named by its host."""
    port = receiver.server.server_address[1]
    asked = _resolving(monkeypatch, {"hooks.example": ["127.0.0.1", "10.255.255.1"]})
    outcome = send(f"http://hooks.example:{port}/hook", new_secret(), "msg_1", b"{}",
                   allow_private=True)
    assert outcome.ok, outcome.error
    assert asked == ["hooks.example"]
    assert receiver.requests[0].headers["host"] == f"hooks.example:{port}"


def test_environment_proxies_are_not_used(receiver, monkeypatch):
    port = receiver.server.server_address[1]
    monkeypatch.setenv("HTTP_PROXY", "http://10.255.255.1:3128")
    monkeypatch.setenv("http_proxy", "http://10.255.255.1:3128")
    _resolving(monkeypatch, {"hooks.example": ["127.0.0.1"]})
    assert send(f"http://hooks.example:{port}/hook", new_secret(), "msg_1", b"{}",
                allow_private=True).ok


# --- TLS: the pinned connection still checks the certificate against the name ----------------

def _certificate(name: str, key, issuer_name, issuer_key, ca: bool) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    builder = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
               .issuer_name(issuer_name).public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(minutes=5))
               .not_valid_after(now + dt.timedelta(hours=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if not ca:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]),
                                        critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


@pytest.fixture
def tls_receiver(tmp_path):
    """An HTTPS server on loopback with a certificate for hooks.example from a test CA; it
    records the server name each client asked for (SNI) and the Host header."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "MakeRight test CA")])
    ca = _certificate("MakeRight test CA", ca_key, ca_name, ca_key, ca=True)
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = _certificate("hooks.example", leaf_key, ca_name, ca_key, ca=False)
    (tmp_path / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "leaf.pem").write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "leaf.key").write_bytes(leaf_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    seen: dict[str, list[str]] = {"sni": [], "host": []}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            seen["host"].append(self.headers["Host"])
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            return

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "leaf.pem", tmp_path / "leaf.key")
    context.sni_callback = lambda sock, name, ctx: seen["sni"].append(name)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = loopback.serve(server)
    yield server.server_address[1], str(tmp_path / "ca.pem"), seen
    loopback.stop(server, thread)


def test_tls_keeps_the_name_for_sni_and_the_certificate(tls_receiver, monkeypatch):
    port, ca, seen = tls_receiver
    _resolving(monkeypatch, {"hooks.example": ["127.0.0.1"]})
    outcome = send(f"https://hooks.example:{port}/hook", new_secret(), "msg_1", b"{}",
                   allow_private=True, verify=ca)
    assert outcome.status_code == 204, outcome.error
    assert seen["sni"] == ["hooks.example"] and seen["host"] == [f"hooks.example:{port}"]


def test_tls_to_the_pinned_address_still_refuses_a_certificate_for_another_name(
        tls_receiver, monkeypatch):
    port, ca, seen = tls_receiver
    _resolving(monkeypatch, {"other.example": ["127.0.0.1"]})
    outcome = send(f"https://other.example:{port}/hook", new_secret(), "msg_1", b"{}",
                   allow_private=True, verify=ca)
    assert outcome.status_code is None and "SSLError" in outcome.error
    assert seen["host"] == []
