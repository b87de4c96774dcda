"""The open workspace, as the commands use it (defined in auditor.context, outside the CLI)."""

from auditor.context import Context, workspace_context

__all__ = ["Context", "workspace_context"]
