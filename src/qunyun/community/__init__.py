"""The community model: organizations, communities, groups, persons, memberships, tags, tokens."""
