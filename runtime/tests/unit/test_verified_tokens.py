"""A token is checked once and then known while it stays valid: never past its expiry, at most a minute,
and only when it passed every check."""

import jwt
import pytest

from contracts.errors import ServiceError
from optimize_runtime import identity as identity_module
from optimize_runtime.identity import Authenticator, VerifiedTokens
from optimize_runtime.settings import AuthSettings

SECRET = "a-shared-secret-of-enough-length-0123456789"
NOW = 1_800_000_000


class Clock:
    def __init__(self) -> None:
        self.now = float(NOW)

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    # PyJWT reads the time itself when it checks `exp`: the same clock for both.
    monkeypatch.setattr(jwt.api_jwt, "datetime", _datetime_at(clock))
    return clock


def _datetime_at(clock: Clock):
    from datetime import UTC, datetime

    class Frozen(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime.fromtimestamp(clock(), tz or UTC)

    return Frozen


@pytest.fixture
def checks(monkeypatch) -> list[str]:
    """Every signature check the authenticator makes."""
    made: list[str] = []
    decode = identity_module.jwt.decode

    def counted(token, *args, **kwargs):
        if kwargs.get("options", {}).get("verify_signature", True):
            made.append(token)
        return decode(token, *args, **kwargs)

    monkeypatch.setattr(identity_module.jwt, "decode", counted)
    return made


def token(exp_in_s: int, audience: str | None = None, secret: str = SECRET) -> str:
    claims = {"sub": "demo", "groups": ["optimize-admins"], "iat": NOW, "exp": NOW + exp_in_s}
    if audience:
        claims["aud"] = audience
    return jwt.encode(claims, secret, algorithm="HS256")


def authenticator(clock: Clock) -> Authenticator:
    return Authenticator(AuthSettings(jwt_secret=SECRET, superuser_groups=("optimize-admins",),
                                      public_audience="optimize-public"), VerifiedTokens(clock=clock))


def test_a_token_sent_again_is_not_checked_again_and_gives_the_same_identity(clock, checks):
    users, sent = authenticator(clock), token(3600)
    first = users.user(f"Bearer {sent}")
    again = [users.user(f"Bearer {sent}") for _ in range(3)]
    assert checks == [sent]
    assert again == [first] * 3 and (first.user_id, first.superuser) == ("demo", True)


def test_a_known_token_is_refused_once_it_expires_and_checked_again_after_a_minute(clock, checks):
    users, short, long = authenticator(clock), token(30), token(3600)
    users.user(f"Bearer {short}")
    users.user(f"Bearer {long}")
    clock.now = NOW + 30  # the short one's exp: PyJWT refuses it from this moment on
    with pytest.raises(ServiceError) as refusal:
        users.user(f"Bearer {short}")
    assert refusal.value.detailed_message == "The token has expired"
    users.user(f"Bearer {long}")
    assert checks == [short, long, short]  # the long one still known
    clock.now = NOW + 61
    users.user(f"Bearer {long}")
    assert checks == [short, long, short, long]  # a minute after its check, checked again


def test_a_refused_token_is_checked_every_time_and_a_public_api_token_is_never_a_users(clock, checks):
    users = authenticator(clock)
    forged, public = token(3600, secret="another-secret-of-enough-length-0123456789"), token(
        3600, audience="optimize-public")
    for _ in range(2):
        with pytest.raises(ServiceError):
            users.user(f"Bearer {forged}")
    assert checks == [forged, forged]
    assert users.public_api(f"Bearer {public}").public_api
    with pytest.raises(ServiceError) as refusal:
        users.user(f"Bearer {public}")  # known as a public API token, still not a user's
    assert "public API" in refusal.value.detailed_message
