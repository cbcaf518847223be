"""check-in challenges

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-22 12:30:00

Check-in challenges (`challenge` feature): challenges defined by staff and one check-in per
person, challenge and local day.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import qunyun.db.base

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('challenges',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('community_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('group_ids', sa.JSON(), nullable=False),
    sa.Column('start_day', sa.Date(), nullable=False),
    sa.Column('end_day', sa.Date(), nullable=False),
    sa.Column('keyword', sa.String(length=32), nullable=False),
    sa.Column('proof', sa.String(length=16), nullable=False),
    sa.Column('reminder_hour', sa.Integer(), nullable=True),
    sa.Column('daily_points', sa.Integer(), nullable=False),
    sa.Column('completion_points', sa.Integer(), nullable=False),
    sa.Column('required_days', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', qunyun.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', qunyun.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('end_day >= start_day', name=op.f('ck_challenges_ends_after_start')),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_challenges_community_id_communities')),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_challenges_org_id_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_challenges'))
    )
    with op.batch_alter_table('challenges', schema=None) as batch_op:
        batch_op.create_index('ix_challenges_org_id_status_end_day', ['org_id', 'status', 'end_day'], unique=False)

    op.create_table('challenge_checkins',
    sa.Column('challenge_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('person_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('group_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('at', qunyun.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('source_event', sa.String(length=300), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('image_url', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['challenge_id'], ['challenges.id'], name=op.f('fk_challenge_checkins_challenge_id_challenges')),
    sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_challenge_checkins_group_id_groups')),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_challenge_checkins_person_id_persons')),
    sa.PrimaryKeyConstraint('challenge_id', 'person_id', 'day', name=op.f('pk_challenge_checkins'))
    )
    with op.batch_alter_table('challenge_checkins', schema=None) as batch_op:
        batch_op.create_index('ix_challenge_checkins_challenge_id_day', ['challenge_id', 'day'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('challenge_checkins', schema=None) as batch_op:
        batch_op.drop_index('ix_challenge_checkins_challenge_id_day')

    op.drop_table('challenge_checkins')
    with op.batch_alter_table('challenges', schema=None) as batch_op:
        batch_op.drop_index('ix_challenges_org_id_status_end_day')

    op.drop_table('challenges')
