"""Portal paths that emails link to (the route table reuses these, so links never go stale)."""

SIGN_IN = "/sign-in"
WELCOME = "/welcome"
RESET_PASSWORD = "/reset-password"  # noqa: S105  (a path)
APPOINTMENTS = "/appointments"
MESSAGES = "/messages"
RECORDS = "/records"
PROFILE = "/profile"
