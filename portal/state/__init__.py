"""Thin async adapters between pages and services: they hold the principal in backend-only
vars, call services off the event loop and expose the views of the current screen."""
