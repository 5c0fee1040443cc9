"""Error pages in the real build: the app's error boundary is the portal's (a sentence and a
reference, never the JavaScript error), a lost connection is a plain sentence, not Reflex's
toast, the not-found page is friendly, and /healthz reports the running portal's database, file
store and scheduler."""

from __future__ import annotations

import contextlib
import http.server
import threading
from collections.abc import Iterator

from playwright.sync_api import BrowserContext, Page, expect


def test_the_built_app_carries_the_portals_error_page_not_reflexs(page: Page):
    scripts: list[str] = []
    page.on(
        "response",
        lambda r: scripts.append(r.text()) if r.url.endswith(".js") and r.ok else None,
    )
    page.goto("/sign-in")
    expect(page.get_by_role("button", name="Continue")).to_be_visible()
    bundle = "\n".join(scripts)
    assert "contact the practice and quote" in bundle
    assert "An error occurred while rendering this page" not in bundle
    assert "portalReference" in bundle
    assert "Connecting to the portal" in bundle and "Cannot connect to server" not in bundle


def test_a_tab_that_cannot_connect_says_so_plainly_and_carries_on_once_it_can(new_context):
    # The first handshakes meet a server answering 403 (a proxy refusing them, say); then the
    # tab's retries reach the portal. (The browser logs each refused handshake, so this page
    # goes without the console watch.)
    page = new_context(bypass_csp=True).new_page()
    with refusing_server() as refusing:
        page.add_init_script(SOCKETS_REFUSED_FIRST.replace("REFUSING", refusing))
        page.goto("/sign-in")
        notice = page.get_by_role("status").filter(has_text="Connecting to the portal")
        expect(notice).to_be_visible()
        expect(page.get_by_text("Cannot connect to server")).to_have_count(0)
        expect(notice).to_have_count(0)  # the browser retried by itself and got in
    assert page.evaluate("window.refusedSockets") == 3
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("alert")).to_contain_text("Enter both your email address")


SOCKETS_REFUSED_FIRST = """
(() => {
  const Real = window.WebSocket;
  window.refusedSockets = 0;
  window.WebSocket = function (url, protocols) {
    if (String(url).includes("/_event") && window.refusedSockets < 3) {
      window.refusedSockets += 1;
      url = "REFUSING" + new URL(url).pathname;
    }
    return new Real(url, protocols);
  };
  Object.assign(window.WebSocket, Real);
  window.WebSocket.prototype = Real.prototype;
})();
"""


@contextlib.contextmanager
def refusing_server() -> Iterator[str]:
    """A local server that answers every request, websocket handshakes included, with 403."""

    class Refuse(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(403)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Refuse)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"ws://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def test_an_unknown_address_shows_the_not_found_page(page: Page):
    page.goto("/no/such/page")
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    expect(page.get_by_role("link", name="Go to your home page")).to_be_visible()


def test_healthz_reports_the_running_portal(context: BrowserContext):
    response = context.request.get("/healthz")
    assert response.status == 200
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-request-id"]
    body = response.json()
    assert body["status"] == "ok"
    assert {name: check["status"] for name, check in body["checks"].items()} == {
        "database": "ok",
        "storage": "ok",
        "scheduler": "ok",
    }
    jobs = {job["id"] for job in body["checks"]["scheduler"]["jobs"]}
    assert {"dispatch_notifications", "end_expired_sessions", "appointment_reminders"} <= jobs
