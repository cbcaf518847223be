"""`moderation` (群规): rules, consequences, modes and the dry run on history; see `plugin`."""
