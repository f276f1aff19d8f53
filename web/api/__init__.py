"""The native JSON API, its administration routes and its OpenAPI description."""
