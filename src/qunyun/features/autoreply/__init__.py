"""Keyword auto-replies and the FAQ knowledge base (see `plugin`)."""
