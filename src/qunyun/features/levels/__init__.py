"""`levels`: titles by lifetime points or recent activity, and rule-based badges."""
