"""`points`: award rules (messages with anti-farming, reactions received, invites), expiry,
and the administration of the ledger (recompute, CSV, adjustments)."""
