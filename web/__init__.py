"""The Starlette app, its routes, the CLI, templates and migrations."""
