"""Authentication and authorization primitives: principals, passwords, session tokens."""
