"""The portal backend: plain Python, never Reflex. Services, data, security and jobs."""
