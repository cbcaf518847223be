"""Core types shared by every layer: events, actions, clock, errors, the platform port, settings."""
