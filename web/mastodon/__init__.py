"""Mastodon's client API: its routes, OAuth, streaming and the entities it answers with."""
