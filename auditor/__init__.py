"""Information-security compliance auditor for Vietnamese state bodies."""

__version__ = "0.1.0"
