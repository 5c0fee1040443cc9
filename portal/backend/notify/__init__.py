"""Notifications: PHI-free templates, the outbox, and the channels that deliver it."""
