"""`leaderboard`: who earned, signed in and spoke the most, per group or community."""
