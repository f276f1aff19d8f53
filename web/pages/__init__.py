"""The HTML pages and forms, and the templates they render."""
