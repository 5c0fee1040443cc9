"""Lighthouse (from the npm registry) against a served portal, in Debian's Chromium.

Lighthouse is installed with the machine's npm into `benchmarks/.lighthouse/` (git-ignored by a
`.gitignore` of its own), never globally. Version 12 is the newest that runs on the machine's
Node 20 (Lighthouse 13 needs Node 22.19). A run uses Lighthouse's default configuration (a
mid-range phone on a throttled 4G connection, simulated) or its desktop preset, and writes its
JSON report to `benchmarks/.lighthouse/reports/`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from portal.backend.config import load_settings
from portal.backend.db import Database
from portal.backend.models import User
from portal.backend.security.tokens import SESSION_COOKIE
from portal.backend.services.sessions import open_session
from portal.backend.services.sign_in import normalize_email

CACHE = Path(__file__).resolve().parent / ".lighthouse"
PACKAGE = "lighthouse@12.8.2"
CHROMIUM = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
RUN_LIMIT_SECONDS = 300
METRICS = {
    "first-contentful-paint": "FCP",
    "largest-contentful-paint": "LCP",
    "total-blocking-time": "TBT",
    "cumulative-layout-shift": "CLS",
    "speed-index": "SI",
}


@dataclass
class Scores:
    page: str
    preset: str
    performance: float
    accessibility: float
    final_url: str
    metrics: dict[str, str]
    # Audits that lost points, as (category, audit id, score).
    failing: list[tuple[str, str, float]]


def install() -> Path:
    """The `lighthouse` command, installed into the cache folder on first use."""
    command = CACHE / "node_modules" / ".bin" / "lighthouse"
    if command.exists():
        return command
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is not on PATH: Lighthouse cannot be installed")
    CACHE.mkdir(exist_ok=True)
    (CACHE / ".gitignore").write_text("*\n")
    subprocess.run(  # noqa: S603  (the machine's npm, a pinned package)
        [npm, "install", "--prefix", str(CACHE), "--no-audit", "--no-fund", PACKAGE],
        check=True,
        timeout=RUN_LIMIT_SECONDS,
    )
    return command


def session_cookie(data_dir: Path, email: str) -> str:
    """A `Cookie` header for a new session of `email` in the served portal's database (opened
    directly, as the end-to-end tests do, so no code is typed)."""
    database = Database(load_settings({"PORTAL_DATA_DIR": str(data_dir), "PORTAL_DEMO": "1"}))
    try:
        with database.unit_of_work() as uow:
            index = uow.keyring.blind_index("email", normalize_email(email))
            user = uow.users.first(select(User).where(User.email_index == index))
            signed_in = open_session(uow, user, device="Lighthouse")
            uow.commit()
            return f"{SESSION_COOKIE}={signed_in.token}"
    finally:
        database.engine.dispose()


def audit(
    command: Path, page: str, url: str, *, preset: str = "mobile", cookie: str | None = None
) -> Scores:
    """Run Lighthouse once against `url` (with the session cookie, if given); `preset` is
    "mobile" (Lighthouse's default) or "desktop"."""
    reports = CACHE / "reports"
    reports.mkdir(parents=True, exist_ok=True)
    output = reports / f"{page.replace(' ', '-')}-{preset}.json"
    arguments = [
        str(command),
        url,
        "--quiet",
        "--output=json",
        f"--output-path={output}",
        "--only-categories=performance,accessibility",
        "--chrome-flags=--headless=new --no-sandbox",
    ]
    if preset == "desktop":
        arguments.append("--preset=desktop")
    with tempfile.TemporaryDirectory() as folder:
        if cookie:
            # From a file, so the session token is not on a command line.
            headers = Path(folder) / "headers.json"
            headers.write_text(json.dumps({"Cookie": cookie}))
            arguments.append(f"--extra-headers={headers}")
        subprocess.run(  # noqa: S603  (the installed Lighthouse, our own arguments)
            arguments,
            env={**os.environ, "CHROME_PATH": CHROMIUM},
            check=True,
            timeout=RUN_LIMIT_SECONDS,
        )
    return _scores(page, preset, json.loads(output.read_text()))


def _scores(page: str, preset: str, report: dict) -> Scores:
    categories = report["categories"]
    audits = report["audits"]
    failing = [
        (name, ref["id"], audits[ref["id"]]["score"])
        for name in ("performance", "accessibility")
        for ref in categories[name]["auditRefs"]
        if ref["weight"] > 0 and (audits[ref["id"]].get("score") or 0) < 0.9
    ]
    return Scores(
        page=page,
        preset=preset,
        performance=categories["performance"]["score"],
        accessibility=categories["accessibility"]["score"],
        final_url=report.get("finalDisplayedUrl") or report.get("finalUrl", ""),
        metrics={short: audits[key]["displayValue"] for key, short in METRICS.items()},
        failing=failing,
    )
