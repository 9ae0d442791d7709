"""The TLS part's certificates, made with the openssl CLI, the route people
are told to take: a CA, a server certificate for 127.0.0.1 (IP SAN,
serverAuth) and a client certificate CN=bench (clientAuth), all P-256,
valid for 30 days."""
from __future__ import annotations

import os
import subprocess

from .common import run


def _new_key(path: str) -> None:
    run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", path],
        stderr=subprocess.DEVNULL)


def make(directory: str) -> None:
    """ca.pem, server.pem, client.pem and their keys in DIRECTORY."""
    os.makedirs(directory, exist_ok=True)
    at = lambda name: os.path.join(directory, name)  # noqa: E731
    _new_key(at("ca-key.pem"))
    run(["openssl", "req", "-x509", "-new", "-key", at("ca-key.pem"), "-sha256", "-days", "30", "-subj", "/CN=bpfleet bench CA",
         "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
         "-out", at("ca.pem")])
    with open(at("server.ext"), "w") as f:
        f.write("basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                "extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1\n")
    with open(at("client.ext"), "w") as f:
        f.write("basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n")
    for name, common_name in (("server", "127.0.0.1"), ("client", "bench")):
        _new_key(at(f"{name}-key.pem"))
        run(["openssl", "req", "-new", "-key", at(f"{name}-key.pem"), "-subj", f"/CN={common_name}", "-out", at(f"{name}.csr")])
        run(["openssl", "x509", "-req", "-in", at(f"{name}.csr"), "-CA", at("ca.pem"), "-CAkey", at("ca-key.pem"),
             "-CAcreateserial", "-sha256", "-days", "30", "-extfile", at(f"{name}.ext"), "-out", at(f"{name}.pem")],
            stderr=subprocess.DEVNULL)
    run(["openssl", "verify", "-CAfile", at("ca.pem"), "-purpose", "sslserver", at("server.pem")], stdout=subprocess.DEVNULL)
    run(["openssl", "verify", "-CAfile", at("ca.pem"), "-purpose", "sslclient", at("client.pem")], stdout=subprocess.DEVNULL)
