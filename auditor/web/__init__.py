"""The web console: server-rendered pages and a JSON API over the service layer (auditor serve)."""
