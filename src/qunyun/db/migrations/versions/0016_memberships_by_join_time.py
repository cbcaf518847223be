"""memberships by join time

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-22 20:30:00

The welcome asks, when a join window closes, who joined the group in it: without an index on
the join time that reads every open membership of the group, once per window.
"""

from __future__ import annotations

from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.create_index('ix_memberships_group_id_joined_at', ['group_id', 'joined_at'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.drop_index('ix_memberships_group_id_joined_at')
