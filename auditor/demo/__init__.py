"""The demo: real services on loopback, a workspace pointing at them, and the whole product run on it."""
