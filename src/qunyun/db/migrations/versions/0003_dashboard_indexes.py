"""dashboard indexes

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 10:20:00

The group page lists a group's staff tasks, open ones first: without an index that is a scan
of every task of every group (one per action a platform could not perform, kept forever).
"""

from __future__ import annotations

from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('staff_tasks', schema=None) as batch_op:
        batch_op.create_index('ix_staff_tasks_group_id_status', ['group_id', 'status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('staff_tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_staff_tasks_group_id_status')
