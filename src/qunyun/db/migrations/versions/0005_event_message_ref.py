"""event message ref, points group

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 12:40:00

The platform's message id of posted messages on the event log, indexed per group, so features
can find the message a reply, a reaction or a highlight points at; the group points were
earned or spent in, for leaderboards per group and per period.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('events') as batch_op:
        batch_op.add_column(sa.Column('message_ref', sa.String(length=200), nullable=True))
    op.create_index('ix_events_group_id_message_ref', 'events', ['group_id', 'message_ref'],
                    unique=False)
    with op.batch_alter_table('points_entries') as batch_op:
        batch_op.add_column(sa.Column(
            'group_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
    op.create_index('ix_points_entries_community_id_created_at', 'points_entries',
                    ['community_id', 'created_at'], unique=False)
    op.create_index('ix_points_entries_group_id_created_at', 'points_entries',
                    ['group_id', 'created_at'], unique=False)
    # Covered by (community_id, person_id, created_at); one index less on every award.
    op.drop_index('ix_points_entries_person_id', table_name='points_entries')


def downgrade() -> None:
    op.create_index('ix_points_entries_person_id', 'points_entries', ['person_id'], unique=False)
    op.drop_index('ix_points_entries_group_id_created_at', table_name='points_entries')
    op.drop_index('ix_points_entries_community_id_created_at', table_name='points_entries')
    with op.batch_alter_table('points_entries') as batch_op:
        batch_op.drop_column('group_id')
    op.drop_index('ix_events_group_id_message_ref', table_name='events')
    with op.batch_alter_table('events') as batch_op:
        batch_op.drop_column('message_ref')
