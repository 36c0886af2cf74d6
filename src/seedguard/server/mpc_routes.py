"""MPC wallets: key generation, nonces, signing, repair and refresh (server/mpc.py).

Routes and their bodies; `router(ctx)` gives them to the application factory (app.py)."""

import base64
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from seedguard.primitives.secp256k1 import CURVE_ORDER, scalar_bytes
from seedguard.server import mpc, policy, social
from seedguard.server.api import B64, MAX_INT, Context, SealedB64, Token, b64, unb64
from seedguard.server.refusals import Refused


class MpcCreateOut(BaseModel):
    wallet_id: str
    server_hostpubkey: str


class MpcHostKeysIn(BaseModel):
    hostpubkeys: list[B64] = Field(max_length=3)


class MpcMessageIn(BaseModel):
    message: SealedB64


class MpcMessageOut(BaseModel):
    message: str


class MpcKeyOut(BaseModel):
    wallet_id: str
    status: str
    epoch: int = Field(ge=0, le=MAX_INT)
    thresh_pk: str | None
    pubshares: list[str] | None = None
    refresh_pending: bool = False
    pending_pubshares: list[str] | None = None


class MpcWalletsOut(BaseModel):
    wallets: list[MpcKeyOut]


class MpcNoncesIn(BaseModel):
    count: int = Field(default=1, ge=1, le=16)


class MpcNonce(BaseModel):
    nonce_id: str
    pubnonce: str


class MpcNoncesOut(BaseModel):
    nonces: list[MpcNonce]
    epoch: int = Field(ge=0, le=MAX_INT)


class MpcSignIn(BaseModel):
    nonce_id: Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]
    message: B64
    pubnonce: B64
    # The address the signature is for: [chain, index] below the wallet's extended key
    # (chain 0 receive, 1 change); absent, the index-free address of an older wallet.
    path: (
        Annotated[
            list[Annotated[int, Field(ge=0, le=2**31 - 1)]], Field(min_length=2, max_length=2)
        ]
        | None
    ) = None


class MpcSignOut(BaseModel):
    psig: str


class MpcCreateIn(BaseModel):
    # The owner's initial policy: may the server co-sign raw 32-byte hashes (messages)?
    raw_signing: bool = False


class MpcPsbtInput(BaseModel):
    index: Annotated[int, Field(ge=0, le=10_000)]
    nonce_id: Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]
    pubnonce: B64
    # The sighash the device computed (and the user confirmed the transaction of): the
    # server refuses when its own differs, rather than sign a transaction nobody saw.
    sighash: B64 | None = None


class MpcPsbtIn(BaseModel):
    psbt: Annotated[str, Field(pattern=r"^[A-Za-z0-9+/=]*$", max_length=6 * 1024 * 1024)]
    inputs: Annotated[list[MpcPsbtInput], Field(min_length=1, max_length=1000)]


class MpcPsig(BaseModel):
    index: int
    psig: str


class MpcPsbtOut(BaseModel):
    psigs: list[MpcPsig]


class MpcPolicy(BaseModel):
    daily_limit: Annotated[int, Field(ge=0, le=21_000_000 * 100_000_000)] | None = None
    allowlist: Annotated[
        list[Annotated[str, Field(pattern=r"^[0-9a-f]{2,160}$")]], Field(max_length=20)
    ] = []
    raw_signing: bool = False


class MpcPolicyOut(MpcPolicy):
    spent_24h: int


class MpcChallengeOut(BaseModel):
    challenge: str
    epoch: int = Field(ge=0, le=MAX_INT)
    expires_in: int


class ShareProofs(BaseModel):
    """A proof for a participant's share, by participant id ("0" the device, "2" the cloud)."""

    model_config = {"extra": "forbid"}
    device: B64 | None = Field(default=None, alias="0")
    cloud: B64 | None = Field(default=None, alias="2")


class PasswordProofIn(BaseModel):
    handle: B64
    proof: B64


class MpcRepairIn(BaseModel):
    target: int = Field(ge=0, le=2)
    delta: B64
    commitment: B64
    challenge: B64
    proofs: ShareProofs
    password: PasswordProofIn | None = None
    recovery_proof: B64 | None = None


class MpcRepairOut(BaseModel):
    delta: str
    sigma: str
    commitment: str
    gate: str | None


class MpcRefreshIn(BaseModel):
    commitment: list[B64] = Field(max_length=8)
    share: B64
    challenge: B64
    proofs: ShareProofs


class MpcCloudIn(BaseModel):
    challenge: B64
    proofs: ShareProofs
    handle: B64 | None
    recovery_verifier: B64 | None


class MpcRefreshOut(BaseModel):
    commitment: list[str]
    shares: dict[str, str]
    epoch: int = Field(ge=0, le=MAX_INT)


class MpcEpochIn(BaseModel):
    epoch: int = Field(ge=0, le=MAX_INT)


class MpcEpochOut(BaseModel):
    epoch: int = Field(ge=0, le=MAX_INT)


def _scalar(text: str, what: str) -> int:
    value = int.from_bytes(unb64(text, what, 32), "big")
    if value >= CURVE_ORDER:
        raise Refused(400, f"{what} is not a scalar below the group order.")
    return value


def _proofs(body: ShareProofs) -> dict[int, bytes]:
    found = {0: body.device, 2: body.cloud}
    return {i: unb64(v, f"proofs.{i}", 64) for i, v in found.items() if v is not None}


def _key_out(described: dict[str, Any]) -> MpcKeyOut:
    thresh_pk = described["thresh_pk"]
    pubshares = described.get("pubshares")
    return MpcKeyOut(
        wallet_id=described["wallet_id"],
        status=described["status"],
        epoch=described["epoch"],
        thresh_pk=None if thresh_pk is None else b64(thresh_pk),
        pubshares=None if pubshares is None else [b64(p) for p in pubshares],
        refresh_pending=bool(described.get("refresh_pending", False)),
        pending_pubshares=[b64(p) for p in described.get("pending_pubshares") or []] or None,
    )


def router(ctx: Context) -> APIRouter:
    app = APIRouter()
    server, settings, database, auth, on_database, announced = (
        ctx.server,
        ctx.settings,
        ctx.database,
        ctx.auth,
        ctx.on_database,
        ctx.announced,
    )

    # -- MPC wallets --------------------------------------------------------------------------

    @app.post("/v1/mpc/wallets", tags=["mpc"])
    @on_database
    def mpc_create(request: Request, token: Token, body: MpcCreateIn | None = None) -> MpcCreateOut:
        """A new 2-of-3 wallet in key generation (ChillDKG); the server is participant 1."""
        raw = body is not None and body.raw_signing
        with database.transaction() as conn:
            wallet_id, hostpubkey = mpc.create(conn, settings, auth(conn, request, token), raw)
        return MpcCreateOut(wallet_id=wallet_id, server_hostpubkey=b64(hostpubkey))

    @app.get("/v1/mpc/wallets", tags=["mpc"])
    @on_database
    def mpc_list(request: Request, token: Token) -> MpcWalletsOut:
        with database.read() as conn:
            rows = mpc.list_wallets(conn, auth(conn, request, token))
        return MpcWalletsOut(wallets=[_key_out(r) for r in rows])

    @app.get("/v1/mpc/wallets/{wallet_id}", tags=["mpc"])
    @on_database
    def mpc_wallet(wallet_id: str, request: Request, token: Token) -> MpcKeyOut:
        with database.read() as conn:
            wallet = mpc.load(conn, settings, auth(conn, request, token), wallet_id)
        return _key_out(mpc.describe(wallet))

    @app.post("/v1/mpc/wallets/{wallet_id}/dkg/1", tags=["mpc"])
    @on_database
    def mpc_dkg1(
        wallet_id: str, body: MpcHostKeysIn, request: Request, token: Token
    ) -> MpcMessageOut:
        """ChillDKG participant step 1: the server's first message."""
        keys = [unb64(k, "hostpubkey", 33) for k in body.hostpubkeys]
        with database.transaction() as conn:
            pmsg1 = mpc.dkg_round1(conn, settings, auth(conn, request, token), wallet_id, keys)
        return MpcMessageOut(message=b64(pmsg1))

    @app.post("/v1/mpc/wallets/{wallet_id}/dkg/2", tags=["mpc"])
    @on_database
    def mpc_dkg2(
        wallet_id: str, body: MpcMessageIn, request: Request, token: Token
    ) -> MpcMessageOut:
        """ChillDKG participant step 2 on the coordinator's message: the server's signature."""
        cmsg1 = unb64(body.message, "message")
        with database.transaction() as conn:
            pmsg2 = mpc.dkg_round2(conn, settings, auth(conn, request, token), wallet_id, cmsg1)
        return MpcMessageOut(message=b64(pmsg2))

    @app.post("/v1/mpc/wallets/{wallet_id}/dkg/3", tags=["mpc"])
    @on_database
    def mpc_dkg3(wallet_id: str, body: MpcMessageIn, request: Request, token: Token) -> MpcKeyOut:
        """ChillDKG finalize on the success certificate: the server keeps its share."""
        cmsg2 = unb64(body.message, "message")
        with database.transaction() as conn:
            session = auth(conn, request, token)
            mpc.dkg_finalize(conn, settings, session, wallet_id, cmsg2)
            wallet = mpc.load(conn, settings, session, wallet_id)
        return _key_out(mpc.describe(wallet))

    @app.post("/v1/mpc/wallets/{wallet_id}/nonces", tags=["mpc"])
    @on_database
    def mpc_nonces(
        wallet_id: str, body: MpcNoncesIn, request: Request, token: Token
    ) -> MpcNoncesOut:
        """Signing round 1: the server's public nonces (each usable once)."""
        with database.transaction() as conn:
            made, epoch = mpc.nonces(
                conn, settings, auth(conn, request, token), wallet_id, body.count
            )
        return MpcNoncesOut(
            nonces=[MpcNonce(nonce_id=i, pubnonce=b64(p)) for i, p in made], epoch=epoch
        )

    @app.post("/v1/mpc/wallets/{wallet_id}/sign", tags=["mpc"])
    @on_database
    def mpc_sign(wallet_id: str, body: MpcSignIn, request: Request, token: Token) -> MpcSignOut:
        """Signing round 2: consumes the nonce in the same transaction; the partial signature."""
        message = unb64(body.message, "message", 32)
        pubnonce = unb64(body.pubnonce, "pubnonce", 66)
        with database.statement() as conn:
            psig = mpc.sign(
                conn,
                settings,
                auth(conn, request, token),
                wallet_id,
                body.nonce_id,
                message,
                pubnonce,
                None if body.path is None else (body.path[0], body.path[1]),
            )
        server.mpc_signatures.inc()
        return MpcSignOut(psig=b64(psig))

    @app.post("/v1/mpc/wallets/{wallet_id}/psbt/sign", tags=["mpc"])
    @on_database
    def mpc_sign_psbt(
        wallet_id: str, body: MpcPsbtIn, request: Request, token: Token
    ) -> MpcPsbtOut:
        """Signing round 2 for a transaction: the server reads the PSBT, derives which inputs
        are the wallet's, recomputes their sighashes and applies the wallet's policy (202
        when the spend waits for the delay); each nonce is consumed in this transaction."""
        try:
            data = base64.b64decode(body.psbt, validate=True)
        except ValueError:
            raise Refused(400, "psbt is not base64.") from None
        inputs = [(i.index, i.nonce_id, unb64(i.pubnonce, "pubnonce", 66)) for i in body.inputs]
        expected = {
            i.index: unb64(i.sighash, "sighash", 32) for i in body.inputs if i.sighash is not None
        }
        events: list[social.Event] = []
        with announced(events), database.transaction() as conn:
            signed = mpc.sign_psbt(
                conn,
                settings,
                auth(conn, request, token),
                wallet_id,
                data,
                inputs,
                events,
                expected,
            )
        server.mpc_signatures.inc(len(signed))
        return MpcPsbtOut(psigs=[MpcPsig(index=i, psig=b64(p)) for i, p in signed])

    @app.get("/v1/mpc/wallets/{wallet_id}/policy", tags=["mpc"])
    @on_database
    def mpc_policy(wallet_id: str, request: Request, token: Token) -> MpcPolicyOut:
        """The wallet's spending policy and what left it in the last 24 hours."""
        with database.read() as conn:
            mpc.load(conn, settings, auth(conn, request, token), wallet_id)
            current = policy.load(conn, wallet_id)
            spent = policy.spent(conn, wallet_id, settings.clock())
        return MpcPolicyOut(**current.as_dict(), spent_24h=spent)

    @app.put("/v1/mpc/wallets/{wallet_id}/policy", tags=["mpc"])
    @on_database
    def mpc_set_policy(
        wallet_id: str, body: MpcPolicy, request: Request, token: Token
    ) -> MpcPolicyOut:
        """Replace the policy: at once when it tightens; when it loosens, 202 until this
        device repeats it after the account's delay (cancellable from any device)."""
        wanted = policy.Policy(body.daily_limit, tuple(body.allowlist), body.raw_signing)
        events: list[social.Event] = []
        with announced(events), database.transaction() as conn:
            session = auth(conn, request, token)
            mpc.load(conn, settings, session, wallet_id)
            policy.change(conn, settings, session, wallet_id, wanted, events)
            spent = policy.spent(conn, wallet_id, settings.clock())
        return MpcPolicyOut(**wanted.as_dict(), spent_24h=spent)

    @app.post("/v1/mpc/wallets/{wallet_id}/repair", tags=["mpc"])
    @on_database
    def mpc_repair(
        wallet_id: str, body: MpcRepairIn, request: Request, token: Token
    ) -> MpcRepairOut:
        """The server as a helper in re-creating a lost share (repairable threshold scheme),
        for a requester that proves the other helper's share; the cloud share also needs
        the backup password's proof, the recovery key's, or the delay (202)."""
        delta_in = _scalar(body.delta, "delta")
        commitment = unb64(body.commitment, "commitment", 33)
        gate = mpc.CloudGate(
            password_handle=None
            if body.password is None
            else unb64(body.password.handle, "handle", 32),
            password_proof=None
            if body.password is None
            else unb64(body.password.proof, "proof", 32),
            recovery_proof=None
            if body.recovery_proof is None
            else unb64(body.recovery_proof, "recovery_proof", 32),
        )
        events: list[social.Event] = []
        with announced(events), database.transaction() as conn:
            delta, sigma, kept, passed = mpc.repair(
                conn,
                settings,
                auth(conn, request, token),
                wallet_id,
                body.target,
                delta_in,
                commitment,
                unb64(body.challenge, "challenge", 32),
                _proofs(body.proofs),
                gate,
                events,
            )
        return MpcRepairOut(
            delta=b64(scalar_bytes(delta)),
            sigma=b64(scalar_bytes(sigma)),
            commitment=b64(kept),
            gate=passed,
        )

    @app.post("/v1/mpc/wallets/{wallet_id}/challenge", tags=["mpc"])
    @on_database
    def mpc_challenge(wallet_id: str, request: Request, token: Token) -> MpcChallengeOut:
        """A one-use challenge that this session's share proofs for this wallet sign."""
        with database.transaction() as conn:
            value, epoch = mpc.issue_challenge(
                conn, settings, auth(conn, request, token), wallet_id
            )
        return MpcChallengeOut(challenge=b64(value), epoch=epoch, expires_in=int(mpc.CHALLENGE_TTL))

    @app.put("/v1/mpc/wallets/{wallet_id}/cloud", tags=["mpc"], status_code=204)
    @on_database
    def mpc_cloud(wallet_id: str, body: MpcCloudIn, request: Request, token: Token) -> Response:
        """What the cloud envelope offers to gate a later re-creation of the cloud share
        (its OPRF key's handle, a recovery-key verifier); needs the cloud share's proof."""
        handle = None if body.handle is None else unb64(body.handle, "handle")
        verifier = (
            None
            if body.recovery_verifier is None
            else unb64(body.recovery_verifier, "recovery_verifier", 32)
        )
        with database.transaction() as conn:
            mpc.link_cloud(
                conn,
                settings,
                auth(conn, request, token),
                wallet_id,
                unb64(body.challenge, "challenge", 32),
                _proofs(body.proofs),
                handle,
                verifier,
            )
        return Response(status_code=204)

    @app.post("/v1/mpc/wallets/{wallet_id}/refresh", tags=["mpc"])
    @on_database
    def mpc_refresh(
        wallet_id: str, body: MpcRefreshIn, request: Request, token: Token
    ) -> MpcRefreshOut:
        """Proactive refresh: the server's zero-polynomial shares; its own new share waits."""
        commitment = [unb64(c, "commitment", 33) for c in body.commitment]
        share = _scalar(body.share, "share")
        with database.transaction() as conn:
            mine, shares, epoch = mpc.start_refresh(
                conn,
                settings,
                auth(conn, request, token),
                wallet_id,
                commitment,
                share,
                unb64(body.challenge, "challenge", 32),
                _proofs(body.proofs),
            )
        return MpcRefreshOut(
            commitment=[b64(c) for c in mine],
            shares={str(i): b64(scalar_bytes(v)) for i, v in shares.items()},
            epoch=epoch,
        )

    @app.post("/v1/mpc/wallets/{wallet_id}/refresh/commit", tags=["mpc"])
    @on_database
    def mpc_commit(wallet_id: str, body: MpcEpochIn, request: Request, token: Token) -> MpcEpochOut:
        """Switch to the refreshed share; the old one and its nonces are deleted."""
        with database.transaction() as conn:
            epoch = mpc.commit_refresh(
                conn, settings, auth(conn, request, token), wallet_id, body.epoch
            )
        return MpcEpochOut(epoch=epoch)

    # Matching walks the routes in order: the busiest go first.

    return app
