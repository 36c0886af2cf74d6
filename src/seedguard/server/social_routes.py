"""The social-recovery relay: mailboxes, deposits, requests, approvals (server/social.py).

Routes and their bodies; `router(ctx)` gives them to the application factory (app.py)."""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from seedguard.server import social, webhooks
from seedguard.server.api import (
    B64,
    MAX_INT,
    TEXT,
    CancelOut,
    Context,
    SealedB64,
    Token,
    b64,
    unb64,
)


class MailboxOut(BaseModel):
    mailbox: str


class DepositIn(BaseModel):
    mailbox: Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]
    sealed: SealedB64


class DepositOut(BaseModel):
    deposit: str


class DepositItem(BaseModel):
    deposit: str
    sealed: str
    created: float


class DepositsOut(BaseModel):
    deposits: list[DepositItem]
    next: str | None = Field(
        None, description="The cursor of the next page (`?after=`); null on the last page."
    )


class DelayIn(BaseModel):
    seconds: Annotated[float, Field(gt=0, le=365 * 86400)]
    credential: B64 | None = None


class DelayOut(BaseModel):
    seconds: float


class RequestIn(BaseModel):
    label: Annotated[str, Field(min_length=1, max_length=64, pattern=TEXT)]
    public_key: Annotated[str, Field(pattern=r"^age1[0-9a-z]{20,100}$")]


class RequestOut(BaseModel):
    code: str


class RequestInfo(BaseModel):
    code: str
    label: str
    created: float
    public_key: str
    approvals: int
    state: str
    release_at: float | None


class ApproveIn(BaseModel):
    deposit: Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]
    resealed: SealedB64


class ApproveOut(BaseModel):
    approvals: int


class WebhookIn(BaseModel):
    url: Annotated[str, Field(max_length=512, pattern=TEXT)] | None
    credential: B64 | None = None


class CancelIn(BaseModel):
    code: Annotated[str, Field(max_length=16, pattern=TEXT)] | None = None


class SharesOut(BaseModel):
    shares: list[str] = Field(description="The first released owner's shares (groups[0]).")
    groups: list[list[str]] = Field(
        description="One list per owner whose delay has passed and who did not cancel."
    )


class NotificationItem(BaseModel):
    id: int
    event: str
    code: str
    created: float


class NotificationsOut(BaseModel):
    notifications: list[NotificationItem]
    next: int | None = Field(
        None, description="The cursor of the next page (`?after=`); null when no more now."
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

    # -- social recovery relay ---------------------------------------------------------------

    @app.post("/v1/social/mailboxes", tags=["social"])
    @on_database
    def open_mailbox(request: Request, token: Token) -> MailboxOut:
        """A guardian's mailbox, where owners deposit shares sealed to that guardian."""
        with database.transaction() as conn:
            mailbox = social.open_mailbox(conn, settings, auth(conn, request, token))
        return MailboxOut(mailbox=mailbox)

    @app.post("/v1/social/deposits", tags=["social"])
    @on_database
    def deposit(body: DepositIn, request: Request, token: Token) -> DepositOut:
        """Deposit a share sealed to the mailbox's guardian (by the wallet's owner)."""
        sealed = unb64(body.sealed, "sealed")
        with database.transaction() as conn:
            me = auth(conn, request, token)
            found = social.deposit(conn, settings, me, body.mailbox, sealed)
        return DepositOut(deposit=found)

    @app.get("/v1/social/mailboxes/{mailbox}", tags=["social"])
    @on_database
    def read_mailbox(
        mailbox: str,
        request: Request,
        token: Token,
        after: Annotated[str | None, Query(pattern=r"^[0-9a-f]{32}$")] = None,
    ) -> DepositsOut:
        """One page of the sealed shares in one of the caller's mailboxes, oldest first; the
        next page with `?after=` the answer's `next`."""
        with database.read() as conn:
            items, cursor = social.deposits(
                conn, settings, auth(conn, request, token), mailbox, after
            )
        return DepositsOut(
            deposits=[
                DepositItem(deposit=d.deposit, sealed=b64(d.sealed), created=d.created)
                for d in items
            ],
            next=cursor,
        )

    @app.put("/v1/social/delay", tags=["social"])
    @on_database
    def set_delay(body: DelayIn, request: Request, token: Token) -> DelayOut:
        """How long released shares wait after a recovery request is approved (the owner's
        window to cancel); at least the server's minimum."""
        credential = None if body.credential is None else unb64(body.credential, "credential", 32)
        events: list[social.Event] = []
        with announced(events), database.transaction() as conn:
            me = auth(conn, request, token)
            seconds = social.set_delay(conn, settings, me, body.seconds, credential, events)
        return DelayOut(seconds=seconds)

    @app.post("/v1/social/requests", tags=["social"])
    @on_database
    def start_request(body: RequestIn, request: Request, token: Token) -> RequestOut:
        """A recovery request from a new device, with the key shares are re-sealed to."""
        with database.transaction() as conn:
            me = auth(conn, request, token)
            _, code = social.start(conn, settings, me, body.label, body.public_key)
        return RequestOut(code=code)

    @app.get("/v1/social/requests/{code}", tags=["social"])
    @on_database
    def request_info(code: str, request: Request, token: Token) -> RequestInfo:
        """Who asks and when: what a guardian checks before approving."""
        with database.read() as conn:
            auth(conn, request, token)
            info = social.describe(conn, settings, code)
        return RequestInfo.model_validate(info)

    @app.post("/v1/social/requests/{code}/approvals", tags=["social"])
    @on_database
    def approve(code: str, body: ApproveIn, request: Request, token: Token) -> ApproveOut:
        """A guardian's share for the request, re-sealed to its key."""
        resealed = unb64(body.resealed, "resealed")
        with database.transaction() as conn:
            me = auth(conn, request, token)
            events: list[social.Event] = []
            count = social.approve(conn, settings, me, code, body.deposit, resealed, events)
        server.deliver(events)
        return ApproveOut(approvals=count)

    @app.post("/v1/social/requests/cancel", tags=["social"])
    @on_database
    def cancel(body: CancelIn, request: Request, token: Token) -> CancelOut:
        """The owner stops a recovery of their wallet (one request, or every open one)."""
        events: list[social.Event] = []
        with database.transaction() as conn:
            codes = social.cancel(conn, settings, auth(conn, request, token), body.code, events)
        server.deliver(events)
        return CancelOut(cancelled=codes)

    @app.put("/v1/social/webhook", tags=["social"], status_code=204)
    async def set_webhook(body: WebhookIn, request: Request, token: Token) -> Response:
        """Also POST this account's events to a URL (null: stop); a host that resolves to a
        loopback, private, link-local or reserved address is refused."""
        if body.url is not None and body.url.startswith(("https://", "http://")):
            await webhooks.resolve(body.url, server.webhook_policy)
        return await database.run(store_webhook, body, request, token)

    def store_webhook(body: WebhookIn, request: Request, token: Token) -> Response:
        credential = None if body.credential is None else unb64(body.credential, "credential", 32)
        events: list[social.Event] = []
        with announced(events), database.transaction() as conn:
            me = auth(conn, request, token)
            social.set_webhook(conn, settings, me, body.url, credential, events)
        return Response(status_code=204)

    @app.get("/v1/social/requests/{code}/shares", tags=["social"])
    @on_database
    def shares(code: str, request: Request, token: Token) -> SharesOut:
        """The re-sealed shares, to the requesting device, once the delay has passed."""
        with database.read() as conn:
            found = social.release(conn, settings, auth(conn, request, token), code)
        groups = [[b64(s) for s in group] for group in found]
        return SharesOut(shares=groups[0], groups=groups)

    @app.get("/v1/notifications", tags=["social"])
    @on_database
    def notifications(
        request: Request, token: Token, after: Annotated[int, Query(ge=0, le=MAX_INT)] = 0
    ) -> NotificationsOut:
        """Events for this account's devices (recovery requested, approved, cancelled)."""
        with database.read() as conn:
            items, cursor = social.notifications(conn, settings, auth(conn, request, token), after)
        return NotificationsOut(
            notifications=[NotificationItem.model_validate(i) for i in items], next=cursor
        )

    return app
