"""Device accounts: sign-in, devices, recovery credentials, pending actions (server/accounts.py).

Routes and their bodies; `router(ctx)` gives them to the application factory (app.py)."""

from typing import Annotated

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from seedguard.server import accounts, guard, social
from seedguard.server.api import B64, CancelOut, Context, Token, b64, unb64


class ChallengeIn(BaseModel):
    public_key: B64


class ChallengeOut(BaseModel):
    challenge: str
    expires_in: int


class EnrollIn(BaseModel):
    account: Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]
    credential: B64
    revoke_others: bool = False


class TokenIn(BaseModel):
    public_key: B64
    challenge: B64
    signature: B64
    new_account: bool = False
    enroll: EnrollIn | None = None


class TokenOut(BaseModel):
    token: str
    expires_in: int
    account: str
    device: str


class DeviceOut(BaseModel):
    id: str
    created: float
    revoked: float | None
    current: bool


class AccountOut(BaseModel):
    account: str
    device: str
    devices: list[DeviceOut]


class VerifierIn(BaseModel):
    verifier: B64
    proof: B64 | None = None  # an active recovery credential of the account


class CredentialProofIn(BaseModel):
    credential: B64 | None = None  # an active recovery credential of the account


class PendingItem(BaseModel):
    id: str
    kind: str
    what: str
    target: str
    created: float
    release_at: float
    requested_by: str


class PendingOut(BaseModel):
    pending: list[PendingItem]


class PendingCancelIn(BaseModel):
    id: Annotated[str, Field(pattern=r"^[0-9a-f]{16}$")] | None = None


def router(ctx: Context) -> APIRouter:
    app = APIRouter()
    settings, database, auth, on_database, announced = (
        ctx.settings,
        ctx.database,
        ctx.auth,
        ctx.on_database,
        ctx.announced,
    )

    # -- accounts --------------------------------------------------------------------------

    @app.post("/v1/auth/challenge", tags=["accounts"])
    @on_database
    def challenge(body: ChallengeIn) -> ChallengeOut:
        """A one-use challenge for the device key to sign."""
        key = unb64(body.public_key, "public_key", 33)
        with database.transaction() as conn:
            value = accounts.issue_challenge(conn, settings, key)
        return ChallengeOut(challenge=b64(value), expires_in=settings.challenge_ttl)

    @app.post("/v1/auth/token", tags=["accounts"])
    @on_database
    def token(body: TokenIn) -> TokenOut:
        """Exchange a signed challenge for a session token; `new_account` creates an account,
        `enroll` joins one with a recovery credential."""
        enroll = body.enroll
        with database.transaction() as conn:
            value, found = accounts.sign_in(
                conn,
                settings,
                unb64(body.public_key, "public_key", 33),
                unb64(body.challenge, "challenge", 32),
                unb64(body.signature, "signature"),
                register=body.new_account,
                enroll_account=enroll.account if enroll else None,
                credential=unb64(enroll.credential, "credential", 32) if enroll else None,
                revoke_others=bool(enroll and enroll.revoke_others),
            )
        return TokenOut(
            token=b64(value),
            expires_in=settings.token_ttl,
            account=found.account_id,
            device=found.device_id,
        )

    @app.get("/v1/account", tags=["accounts"])
    @on_database
    def account(request: Request, token: Token) -> AccountOut:
        with database.read() as conn:
            me = auth(conn, request, token)
            devices = accounts.list_devices(conn, me)
        return AccountOut(
            account=me.account_id,
            device=me.device_id,
            devices=[DeviceOut.model_validate(d) for d in devices],
        )

    def revoke_device(
        device: str, credential: bytes | None, request: Request, token: Token
    ) -> Response:
        events: list[social.Event] = []
        with announced(events), database.transaction() as conn:
            me = auth(conn, request, token)
            accounts.revoke(conn, settings, me, device, credential, events)
        return Response(status_code=204)

    @app.delete("/v1/account/devices/{device}", tags=["accounts"], status_code=204)
    @on_database
    def revoke(device: str, request: Request, token: Token) -> Response:
        """Revoke a device of this account: this device at once (not the last one of an
        account without a recovery credential); another after the account's delay (202)."""
        return revoke_device(device, None, request, token)

    @app.post("/v1/account/devices/{device}/revoke", tags=["accounts"], status_code=204)
    @on_database
    def revoke_with_proof(
        device: str, body: CredentialProofIn, request: Request, token: Token
    ) -> Response:
        """Revoke a device; with an active recovery credential as proof, another device too
        at once (its tokens stop working)."""
        credential = None if body.credential is None else unb64(body.credential, "credential", 32)
        return revoke_device(device, credential, request, token)

    @app.post("/v1/account/recovery-credentials", tags=["accounts"], status_code=204)
    @on_database
    def add_credential(body: VerifierIn, request: Request, token: Token) -> Response:
        """Register SHA-256 of an account recovery credential: active at once when it is the
        first, or with an active credential as `proof`; otherwise after the delay (202)."""
        verifier = unb64(body.verifier, "verifier", 32)
        proof = None if body.proof is None else unb64(body.proof, "proof", 32)
        events: list[social.Event] = []
        with announced(events), database.transaction() as conn:
            me = auth(conn, request, token)
            active_from = accounts.add_recovery_credential(
                conn, settings, me, verifier, proof, events
            )
        if active_from is None:
            return Response(status_code=204)
        return JSONResponse(
            {
                "message": "Announced to every device of the account; it works from then, "
                "unless one of them cancels it.",
                "active_from": active_from,
            },
            202,
        )

    @app.get("/v1/account/pending", tags=["accounts"])
    @on_database
    def pending(request: Request, token: Token) -> PendingOut:
        """Actions this account's devices asked for that wait for the delay."""
        with database.read() as conn:
            items = guard.list_pending(conn, auth(conn, request, token))
        return PendingOut(pending=[PendingItem.model_validate(p.as_dict()) for p in items])

    @app.post("/v1/account/pending/cancel", tags=["accounts"])
    @on_database
    def cancel_pending(body: PendingCancelIn, request: Request, token: Token) -> CancelOut:
        """Any device of the account stops one pending action (or all)."""
        events: list[social.Event] = []
        with announced(events), database.transaction() as conn:
            ids = guard.cancel(conn, settings, auth(conn, request, token), body.id, events)
        return CancelOut(cancelled=ids)

    return app
