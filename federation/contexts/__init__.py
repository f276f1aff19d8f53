"""Bundled JSON-LD context documents, served offline by `federation.jsonld.document_loader`."""
