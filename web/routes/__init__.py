"""Thin route handlers: parse the request, call the packages below, shape the response."""
