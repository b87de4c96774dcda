"""Inspections, drills, incident-response plans and deployment status the workspace declares."""
