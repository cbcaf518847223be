"""`challenge` (打卡挑战): N-day check-in challenges defined by staff, with daily check-ins,
reminders, completion rewards and a board."""
