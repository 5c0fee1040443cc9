"""Every route of the portal in one table; pages and redirects use these names, never literals."""

from __future__ import annotations

from portal.backend.security.principal import Role

SIGN_IN = "/sign-in"
PATIENT_HOME = "/"
PROVIDER_HOME = "/provider"
ADMIN_HOME = "/admin"
NOT_FOUND = "/404"

HOME_OF_ROLE = {
    Role.PATIENT: PATIENT_HOME,
    Role.PROVIDER: PROVIDER_HOME,
    Role.ADMIN: ADMIN_HOME,
}

# The navigation of each shell: (label, route).
NAVIGATION = {
    Role.PATIENT: [("Home", PATIENT_HOME)],
    Role.PROVIDER: [("Today", PROVIDER_HOME)],
    Role.ADMIN: [("Overview", ADMIN_HOME)],
}


def home_of(role: Role | str) -> str:
    return HOME_OF_ROLE[Role(role)]
