"""signin

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 14:00:00

Daily sign-in: one record per person, community and local day (signed or filled with a make-up
card) with its rank and streak; the per-group daily counter that hands out ranks; each person's
make-up cards.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import qunyun.db.base

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('signin_records',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('org_id', BIG_ID, nullable=False),
    sa.Column('community_id', BIG_ID, nullable=False),
    sa.Column('person_id', BIG_ID, nullable=False),
    sa.Column('group_id', BIG_ID, nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=True),
    sa.Column('streak', sa.Integer(), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('at', qunyun.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('source_event', sa.String(length=300), nullable=True),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_signin_records_community_id_communities')),
    sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_signin_records_group_id_groups')),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_signin_records_org_id_organizations')),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_signin_records_person_id_persons')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signin_records')),
    sa.UniqueConstraint('community_id', 'person_id', 'day', name=op.f('uq_signin_records_community_id_person_id_day'))
    )
    op.create_index('ix_signin_records_group_id_day', 'signin_records', ['group_id', 'day'], unique=False)
    op.create_index('ix_signin_records_org_id_day', 'signin_records', ['org_id', 'day'], unique=False)
    op.create_table('signin_daily',
    sa.Column('group_id', BIG_ID, nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_signin_daily_group_id_groups')),
    sa.PrimaryKeyConstraint('group_id', 'day', name=op.f('pk_signin_daily'))
    )
    op.create_table('signin_cards',
    sa.Column('org_id', BIG_ID, nullable=False),
    sa.Column('community_id', BIG_ID, nullable=False),
    sa.Column('person_id', BIG_ID, nullable=False),
    sa.Column('held', sa.Integer(), nullable=False),
    sa.Column('bought', sa.Integer(), nullable=False),
    sa.Column('used', sa.Integer(), nullable=False),
    sa.Column('updated_at', qunyun.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('held >= 0', name=op.f('ck_signin_cards_held_not_negative')),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_signin_cards_community_id_communities')),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_signin_cards_org_id_organizations')),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_signin_cards_person_id_persons')),
    sa.PrimaryKeyConstraint('community_id', 'person_id', name=op.f('pk_signin_cards'))
    )


def downgrade() -> None:
    op.drop_table('signin_cards')
    op.drop_table('signin_daily')
    op.drop_index('ix_signin_records_org_id_day', table_name='signin_records')
    op.drop_index('ix_signin_records_group_id_day', table_name='signin_records')
    op.drop_table('signin_records')
