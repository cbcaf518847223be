"""Storage: the engine factory, the declarative base, the unit of work and migrations."""
