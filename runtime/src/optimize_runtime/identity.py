"""Who is calling: bearer JWTs for users, a static token or a public-audience JWT for other services."""

import hmac
import time
from dataclasses import dataclass
from functools import cached_property

import jwt

from contracts.errors import ErrorCode, ServiceError
from optimize_runtime.settings import AuthSettings

SYSTEM_USER = "System User"


@dataclass(frozen=True)
class Identity:
    user_id: str
    groups: tuple[str, ...] = ()
    superuser: bool = False
    public_api: bool = False
    # OPTIMIZE_ENTITY_ACCESS, and whether the user holds Optimize 8's entity-editor authorization.
    entity_access: str = "superuser"
    entity_editor: bool = False

    def as_rpc_user(self) -> dict:
        return {"id": self.user_id, "groups": list(self.groups), "superuser": self.superuser}


def unauthorized(reason: str) -> ServiceError:
    return ServiceError(ErrorCode.UNAUTHORIZED, "Authentication required", reason)


class VerifiedTokens:
    """Tokens verified lately and the identity each was verified to carry, so that a client sending the same
    token request after request has it checked (signature, audience, claims) once, not each time.

    Only a token that passed every check is kept, and only while it is valid: never past its `exp` (the
    moment PyJWT would refuse it as expired) and at most `for_s` after its check, so that a change of the
    keys (a JWKS rotation, say) reaches it as soon as the key cache of PyJWKClient would. A token refused
    once is checked again every time."""

    def __init__(self, for_s: float = 60.0, most: int = 1024, clock=time.time) -> None:
        self._for_s, self._most, self._clock = for_s, most, clock
        self._identities: dict[tuple[str, str], tuple[Identity, float]] = {}

    def get(self, kind: str, token: str) -> Identity | None:
        found = self._identities.get((kind, token))
        if found is None:
            return None
        if self._clock() < found[1]:
            return found[0]
        self._identities.pop((kind, token), None)
        return None

    def keep(self, kind: str, token: str, identity: Identity, expires: float) -> Identity:
        if len(self._identities) >= self._most:
            self._identities.clear()  # simple and bounded: the tokens in use are checked again once
        self._identities[(kind, token)] = (identity, min(expires, self._clock() + self._for_s))
        return identity


class Authenticator:
    def __init__(self, settings: AuthSettings, verified: VerifiedTokens | None = None) -> None:
        self.settings = settings
        self._verified = verified or VerifiedTokens()

    @cached_property
    def _jwks(self) -> jwt.PyJWKClient | None:
        return jwt.PyJWKClient(self.settings.jwks_url) if self.settings.jwks_url else None

    def user(self, authorization: str | None) -> Identity:
        """A user token: without OPTIMIZE_AUTH_AUDIENCE it must carry no audience at all, with it exactly
        that one; a token for the public API is never a user's."""
        token = _bearer(authorization)
        if (known := self._verified.get("user", token)) is not None:
            return known
        if self._audiences(token) & {self.settings.public_audience}:
            raise unauthorized(f"The token is for the public API (audience "
                               f"'{self.settings.public_audience}'), not for a user")
        claims = self._verified_claims(token, self.settings.audience)
        return self._verified.keep("user", token, self._identity(claims), float(claims["exp"]))

    def public_api(self, authorization: str | None) -> Identity:
        token = _bearer(authorization)
        static = self.settings.api_access_token
        if static and hmac.compare_digest(token.encode(), static.encode()):
            return Identity(SYSTEM_USER, public_api=True)
        if token.count(".") != 2:
            raise unauthorized("The token is neither the public API access token nor a JWT")
        if (known := self._verified.get("public", token)) is not None:
            return known
        claims = self._verified_claims(token, self.settings.public_audience)
        system_user = Identity(SYSTEM_USER, public_api=True)
        return self._verified.keep("public", token, system_user, float(claims["exp"]))

    def _identity(self, claims: dict) -> Identity:
        user_id = claims.get("sub")
        groups = claims.get("groups") or []
        if not isinstance(user_id, str) or not user_id:
            raise unauthorized("The token has no subject ('sub')")
        if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
            raise unauthorized("The token's 'groups' claim is not a list of strings")
        settings = self.settings
        superuser = user_id in settings.superuser_ids or bool(set(groups) & set(settings.superuser_groups))
        entity_editor = superuser or user_id in settings.entity_editor_ids or bool(
            set(groups) & set(settings.entity_editor_groups))
        return Identity(user_id, tuple(groups), superuser, entity_access=settings.entity_access,
                        entity_editor=entity_editor)

    @staticmethod
    def _audiences(token: str) -> set[str]:
        """The audiences a token claims, read before its signature is checked (only to refuse it)."""
        try:
            audience = jwt.decode(token, options={"verify_signature": False}).get("aud")
        except jwt.InvalidTokenError:
            return set()  # the verification that follows says why
        if isinstance(audience, str):
            return {audience}
        return {item for item in audience if isinstance(item, str)} if isinstance(audience, list) else set()

    def _verified_claims(self, token: str, audience: str | None) -> dict:
        # With no audience expected, a token that names one (for another service) is refused too.
        options = {"require": ["exp", "sub"], "verify_aud": True}
        try:
            if self._jwks is not None:
                key = self._jwks.get_signing_key_from_jwt(token).key
                return jwt.decode(token, key, algorithms=["RS256"], audience=audience, options=options)
            if not self.settings.jwt_secret:
                raise unauthorized("No token verification is configured")
            return jwt.decode(token, self.settings.jwt_secret, algorithms=["HS256"], audience=audience,
                              options=options)
        except jwt.ExpiredSignatureError as error:
            raise unauthorized("The token has expired") from error
        except jwt.InvalidTokenError as error:
            raise unauthorized(f"The token is invalid: {error}") from error
        except jwt.PyJWKClientError as error:
            raise unauthorized(f"The token's signing key could not be found: {error}") from error


def _bearer(authorization: str | None) -> str:
    if not authorization:
        raise unauthorized("No Authorization header")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized("The Authorization header is not 'Bearer <token>'")
    return token.strip()


def issue_token(secret: str, user_id: str, groups: list[str] | None = None, ttl_s: int = 8 * 3600,
                audience: str | None = None) -> str:
    """An HS256 token for development and tests (`make token`)."""
    import time

    now = int(time.time())
    claims = {"sub": user_id, "groups": groups or [], "iat": now, "exp": now + ttl_s}
    if audience:
        claims["aud"] = audience
    return jwt.encode(claims, secret, algorithm="HS256")
