"""The session cookie, set and cleared by HTTP answers only, so that it is `HttpOnly`: no page
script can read it, and the server reads it from the websocket's handshake (the page states do
so through `portal.state.session.session_token`).

- `POST /auth/session` redeems a session ticket (services/session_tickets.py) once and answers
  303 to the page the sign-in leads to, with `Set-Cookie: portal_session=…; HttpOnly;
  SameSite=Strict; Path=/` (and `Secure` behind https). A spent, expired or unknown ticket
  leads back to the sign-in page and sets nothing.
- `POST /auth/signed-out` ends the session the cookie still names, if any, expires the cookie
  and leads to the sign-in page.

The page reaches both with a form it submits itself, so a ticket is never in a URL, the history
or a log. Both refuse any request that does not come from the portal's own pages (CSRF).
"""

from __future__ import annotations

import asyncio
import re

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from portal.backend.config import settings
from portal.backend.notify import links
from portal.backend.security.tokens import SESSION_COOKIE
from portal.backend.services import call, session_tickets, sessions

START_PATH = "/auth/session"
END_PATH = "/auth/signed-out"
SIGNED_OUT = f"{links.SIGN_IN}?signed_out=1"
NOT_STARTED = f"{links.SIGN_IN}?not_started=1"
PRIVATE = {"Cache-Control": "no-store"}
# Where a sign-in may lead: a path of this portal (never `//host` or a scheme).
LANDING = re.compile(r"/(?:[A-Za-z0-9_-][A-Za-z0-9/_-]{0,99})?")


def from_own_page(request: Request) -> bool:
    """Whether a browser's own page of the portal sent the request: its Fetch metadata says
    same-origin, or (a browser without it) its Origin is the portal's. An Origin of `null` is
    left to the metadata: with `Referrer-Policy: no-referrer` browsers send it on their own
    form posts."""
    origin = request.headers.get("origin")
    if origin not in (None, "null") and origin not in settings().allowed_origins:
        return False
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site == "same-origin"
    return origin in settings().allowed_origins


def _refused() -> Response:
    return PlainTextResponse("Refused.", status_code=403, headers=PRIVATE)


def _client(request: Request) -> str | None:
    return request.client.host if request.client else None


async def start_session(request: Request) -> Response:
    if not from_own_page(request):
        return _refused()
    form = await request.form(max_files=0, max_fields=2, max_part_size=1024)
    ticket, landing = str(form.get("ticket", "")), str(form.get("landing", ""))
    signed = await asyncio.to_thread(
        call, session_tickets.redeem_ticket, ticket, client_address=_client(request)
    )
    if signed is None:
        return RedirectResponse(NOT_STARTED, status_code=303, headers=PRIVATE)
    response = RedirectResponse(
        landing if LANDING.fullmatch(landing) else "/", status_code=303, headers=PRIVATE
    )
    response.set_cookie(
        SESSION_COOKIE,
        signed.token,
        path="/",
        secure=settings().secure_cookies,
        httponly=True,
        samesite="strict",
    )
    return response


async def end_session(request: Request) -> Response:
    if not from_own_page(request):
        return _refused()
    token = request.cookies.get(SESSION_COOKIE, "")
    if token:
        await asyncio.to_thread(_sign_out, token, _client(request))
    response = RedirectResponse(SIGNED_OUT, status_code=303, headers=PRIVATE)
    response.delete_cookie(
        SESSION_COOKIE,
        path="/",
        secure=settings().secure_cookies,
        httponly=True,
        samesite="strict",
    )
    return response


def _sign_out(token: str, client: str | None) -> None:
    principal = call(sessions.check_session, token, client_address=client).principal
    if principal is not None:
        call(sessions.sign_out, principal, client_address=client)


ROUTES = [
    Route(START_PATH, start_session, methods=["POST"]),
    Route(END_PATH, end_session, methods=["POST"]),
]
