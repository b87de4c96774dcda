"""Offline advisory data: OSV and the Debian security tracker, imported from files with their date."""
