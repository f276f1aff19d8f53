"""ActivityPub: actor, object and collection documents, WebFinger and NodeInfo."""
