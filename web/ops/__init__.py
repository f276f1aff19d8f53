"""Operations: the `ourdesign` command line, backup and restore, the move to PostgreSQL and
the health checks. Nothing in the web faces imports from here except `web.ops.health`, which
answers the same checks over HTTP."""
