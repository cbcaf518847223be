"""Roles, purpose types and statuses, as DOMAIN.md names them."""

from __future__ import annotations

ROLES = (
    "owner",       # 群主
    "admin",       # 管理员
    "expert",      # 专家 / 意见领袖
    "assistant",   # 小秘书
    "editor",      # 内容编辑
    "moderator",   # 监督
    "activist",    # 活跃分子
    "seed",        # 种子用户
    "staff",       # 导购
    "member",      # 普通成员
)
ROLE_LABELS = {
    "owner": "Owner", "admin": "Admin", "expert": "Expert", "assistant": "Assistant",
    "editor": "Content editor", "moderator": "Moderator", "activist": "Activist",
    "seed": "Seed member", "staff": "Shopping guide", "member": "Member",
}
# Who a staff task goes to, in order of preference.
TASK_ASSIGNEE_ROLES = ("assistant", "owner", "admin", "staff")

PURPOSES = (
    "acquisition",  # 获客群
    "conversion",   # 转化群
    "member",       # 会员群
    "course",       # 课程群
    "popup",        # 快闪群
    "flash_sale",   # 秒杀群
    "partner",      # 合伙人群
    "other",
)
PURPOSE_LABELS = {
    "acquisition": "Acquisition", "conversion": "Conversion", "member": "Members",
    "course": "Course", "popup": "Pop-up", "flash_sale": "Flash sale", "partner": "Partners",
    "other": "Other",
}

GROUP_ACTIVE = "active"
GROUP_DISMISSED = "dismissed"

MEMBERSHIP_ACTIVE = "active"
MEMBERSHIP_LEFT = "left"
MEMBERSHIP_KICKED = "kicked"
MEMBERSHIP_STATUSES = (MEMBERSHIP_ACTIVE, MEMBERSHIP_LEFT, MEMBERSHIP_KICKED)
