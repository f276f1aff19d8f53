"""Local and remote actors, keys, follows, and resolving remote actors."""
