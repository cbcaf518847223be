"""points rules

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 09:00:00

The award rules' memory per person and community (cooldown, recent texts, daily counts), and
the first reaction of each reactor on each message, invites waiting for their hold to end.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import qunyun.db.base

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('points_memories',
    sa.Column('community_id', BIG_ID, nullable=False),
    sa.Column('person_id', BIG_ID, nullable=False),
    sa.Column('last_award_at', qunyun.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('recent', sa.JSON(), nullable=False),
    sa.Column('day', sa.Date(), nullable=True),
    sa.Column('message_points', sa.Integer(), nullable=False),
    sa.Column('reaction_points', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_points_memories_community_id_communities')),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_points_memories_person_id_persons')),
    sa.PrimaryKeyConstraint('community_id', 'person_id', name=op.f('pk_points_memories'))
    )
    op.create_table('points_reactions',
    sa.Column('group_id', BIG_ID, nullable=False),
    sa.Column('message_id', sa.String(length=200), nullable=False),
    sa.Column('reactor_id', BIG_ID, nullable=False),
    sa.PrimaryKeyConstraint('group_id', 'message_id', 'reactor_id', name=op.f('pk_points_reactions'))
    )
    op.create_table('points_held_invites',
    sa.Column('membership_id', BIG_ID, nullable=False),
    sa.Column('org_id', BIG_ID, nullable=False),
    sa.Column('community_id', BIG_ID, nullable=False),
    sa.Column('group_id', BIG_ID, nullable=False),
    sa.Column('invitee_id', BIG_ID, nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('source_event', sa.String(length=300), nullable=False),
    sa.Column('due_at', qunyun.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('membership_id', name=op.f('pk_points_held_invites'))
    )
    op.create_index('ix_points_held_invites_community_id_due_at', 'points_held_invites',
                    ['community_id', 'due_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_points_held_invites_community_id_due_at', table_name='points_held_invites')
    op.drop_table('points_held_invites')
    op.drop_table('points_reactions')
    op.drop_table('points_memories')
