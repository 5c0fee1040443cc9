"""No page script can read the session token: no state keeps anything in browser storage, the
server reads the token from the websocket handshake's `Cookie` header, and Reflex leaves that
header out of every state it sends to the browser."""

from __future__ import annotations

import reflex as rx
from reflex import constants
from reflex.state import State
from reflex_base.utils import format

from portal.state.session import SIGN_OUT_SCRIPT, SessionState, post_navigation, session_token

TOKEN = "the-session-token-0123456789"
HANDSHAKE = {
    constants.RouteVar.PATH: "/",
    constants.RouteVar.QUERY: {},
    constants.RouteVar.ORIGIN: "/",
    constants.RouteVar.HEADERS: {
        "origin": "https://portal.example.org",
        # Another cookie of the host that `http.cookies.SimpleCookie` cannot parse.
        "cookie": f'theme={{"dark":true}}; portal_session={TOKEN}',
    },
    constants.RouteVar.SESSION_ID: "sid",
    constants.RouteVar.CLIENT_TOKEN: "tab",
    constants.RouteVar.CLIENT_IP: "203.0.113.9",
}


def connected_session() -> tuple[State, SessionState]:
    root = State(_reflex_internal_init=True)
    root._update_router_vars(HANDSHAKE, {})
    return root, root.get_substate(SessionState.get_full_name().split(".")[1:])


def every_state() -> list[type[rx.State]]:
    from portal.portal import app  # noqa: F401  (registers every page and its states)

    found, stack = [], [rx.State]
    while stack:
        for substate in stack.pop().get_substates():
            stack.append(substate)
            found.append(substate)
    return found


def test_the_token_is_read_from_the_handshake_cookie():
    _, session = connected_session()
    assert session_token(session) == TOKEN


def test_no_cookie_means_no_token():
    root = State(_reflex_internal_init=True)
    assert session_token(root) == ""


def test_the_state_sent_to_the_browser_never_holds_the_cookie():
    root, _ = connected_session()
    sent = format.json_dumps(root.get_delta()) + format.json_dumps(root.dict())
    assert "203.0.113.9" in sent  # the headers' neighbours are sent ...
    assert TOKEN not in sent and "theme=" not in sent  # ... the cookie header never


def test_no_state_keeps_anything_in_browser_storage():
    kept = [
        f"{state.get_full_name()}.{name}"
        for state in every_state()
        for name in state.base_vars
        if state._is_client_storage(name)
    ]
    assert kept == []


def test_the_navigation_posts_its_fields_as_data_never_as_code():
    script = post_navigation("/auth/session", ticket="a'b\"c</script>", landing="/")
    assert "form.method='post'" in script
    assert '"ticket": "a\'b\\"c</script>"' in script
    assert SIGN_OUT_SCRIPT.startswith("window.sessionStorage.clear();")
    assert '"/auth/signed-out"' in SIGN_OUT_SCRIPT
