"""Reports: Jinja2 templates from reports/ rendered to HTML, and to PDF with WeasyPrint."""
