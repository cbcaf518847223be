"""The points ledger every feature pays through: append-only entries and a kept balance."""
