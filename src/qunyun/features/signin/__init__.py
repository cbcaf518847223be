"""`signin` (签到): once a day per person and community, points with a streak bonus, the day's
rank in the group, and make-up cards (补签卡) bought with points."""
