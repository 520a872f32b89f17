"""Production identity: RS256 tokens checked against the keys an identity provider publishes (JWKS)."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from contracts.errors import ServiceError
from optimize_runtime.identity import Authenticator
from optimize_runtime.settings import AuthSettings


def _key_pair(kid: str):
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(RSAAlgorithm.to_jwk(private.public_key()))
    return private, {**jwk, "kid": kid, "use": "sig", "alg": "RS256"}


@pytest.fixture(scope="module")
def identity_provider():
    """A JWKS endpoint on the loopback interface, publishing one signing key."""
    private, jwk = _key_pair("key-1")
    body = json.dumps({"keys": [jwk]}).encode()

    class Jwks(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Jwks)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield private, f"http://127.0.0.1:{server.server_port}/.well-known/jwks.json"
    server.shutdown()


def _token(private, kid="key-1", audience="optimize", **claims):
    now = int(time.time())
    payload = {"sub": "kermit", "groups": ["optimize-admins"], "aud": audience, "iat": now, "exp": now + 60,
               **claims}
    return jwt.encode(payload, private, algorithm="RS256", headers={"kid": kid})


def test_an_rs256_token_signed_by_the_identity_provider_identifies_the_user(identity_provider):
    private, jwks_url = identity_provider
    authenticator = Authenticator(AuthSettings(jwks_url=jwks_url, audience="optimize",
                                               superuser_groups=("optimize-admins",)))
    identity = authenticator.user(f"Bearer {_token(private)}")
    assert (identity.user_id, identity.groups, identity.superuser) == ("kermit", ("optimize-admins",), True)


@pytest.mark.parametrize("make_token", [
    lambda private: _token(private, audience="another-service"),
    lambda private: _token(_key_pair("key-1")[0]),
    lambda private: _token(_key_pair("key-2")[0], kid="key-2"),
    lambda private: _token(private, exp=int(time.time()) - 5),
    lambda private: jwt.encode({"sub": "kermit", "aud": "optimize", "exp": int(time.time()) + 60},
                               "a-shared-secret-of-enough-length-0123456789", algorithm="HS256"),
], ids=["wrong audience", "signed by another key with the same kid", "unknown key", "expired", "HS256"])
def test_tokens_the_identity_provider_did_not_sign_for_us_are_unauthorized(identity_provider, make_token):
    private, jwks_url = identity_provider
    authenticator = Authenticator(AuthSettings(jwks_url=jwks_url, audience="optimize"))
    with pytest.raises(ServiceError) as refusal:
        authenticator.user(f"Bearer {make_token(private)}")
    assert (refusal.value.status, refusal.value.code) == (401, "unauthorizedError")
