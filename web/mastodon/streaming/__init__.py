"""Mastodon's streaming API: the routes, and what the hub publishes to whom."""
