"""levels, badges and leaderboard counts

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22 15:00:00

Levels per person and community (with the messages they posted there, per local day for the
activity basis), the history of level changes, badges awarded once, the announcements of
promotions and badges waiting for their group's next event, and messages per group, local day
and person for the messages leaderboard.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import qunyun.db.base

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f'{target}.id'],
                                   name=op.f(f'fk_{table}_{column}_{target}'))


def upgrade() -> None:
    op.create_table('levels_members',
    sa.Column('community_id', ID, nullable=False),
    sa.Column('person_id', ID, nullable=False),
    sa.Column('org_id', ID, nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('best_level', sa.Integer(), nullable=False),
    sa.Column('level_since', qunyun.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('messages', sa.Integer(), nullable=False),
    _fk('levels_members', 'community_id', 'communities'),
    _fk('levels_members', 'org_id', 'organizations'),
    _fk('levels_members', 'person_id', 'persons'),
    sa.PrimaryKeyConstraint('community_id', 'person_id', name=op.f('pk_levels_members'))
    )
    op.create_index('ix_levels_members_community_id_level', 'levels_members',
                    ['community_id', 'level'], unique=False)
    op.create_table('levels_activity',
    sa.Column('community_id', ID, nullable=False),
    sa.Column('person_id', ID, nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('messages', sa.Integer(), nullable=False),
    _fk('levels_activity', 'community_id', 'communities'),
    sa.PrimaryKeyConstraint('community_id', 'person_id', 'day', name=op.f('pk_levels_activity'))
    )
    op.create_index('ix_levels_activity_community_id_day', 'levels_activity',
                    ['community_id', 'day'], unique=False)
    op.create_table('levels_changes',
    sa.Column('id', ID, nullable=False),
    sa.Column('org_id', ID, nullable=False),
    sa.Column('community_id', ID, nullable=False),
    sa.Column('person_id', ID, nullable=False),
    sa.Column('group_id', ID, nullable=True),
    sa.Column('from_level', sa.Integer(), nullable=False),
    sa.Column('to_level', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=64), nullable=False),
    sa.Column('at', qunyun.db.base.UTCDateTime(timezone=True), nullable=False),
    _fk('levels_changes', 'community_id', 'communities'),
    _fk('levels_changes', 'org_id', 'organizations'),
    _fk('levels_changes', 'person_id', 'persons'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_levels_changes'))
    )
    op.create_index('ix_levels_changes_community_id_at', 'levels_changes',
                    ['community_id', 'at'], unique=False)
    op.create_table('levels_badges',
    sa.Column('community_id', ID, nullable=False),
    sa.Column('person_id', ID, nullable=False),
    sa.Column('badge', sa.String(length=32), nullable=False),
    sa.Column('org_id', ID, nullable=False),
    sa.Column('group_id', ID, nullable=True),
    sa.Column('detail', sa.String(length=64), nullable=False),
    sa.Column('awarded_at', qunyun.db.base.UTCDateTime(timezone=True), nullable=False),
    _fk('levels_badges', 'community_id', 'communities'),
    _fk('levels_badges', 'org_id', 'organizations'),
    _fk('levels_badges', 'person_id', 'persons'),
    sa.PrimaryKeyConstraint('community_id', 'person_id', 'badge', name=op.f('pk_levels_badges'))
    )
    op.create_index('ix_levels_badges_community_id_awarded_at', 'levels_badges',
                    ['community_id', 'awarded_at'], unique=False)
    op.create_table('levels_announcements',
    sa.Column('id', ID, nullable=False),
    sa.Column('org_id', ID, nullable=False),
    sa.Column('group_id', ID, nullable=False),
    sa.Column('person_id', ID, nullable=False),
    sa.Column('member', sa.String(length=200), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('subject', sa.String(length=64), nullable=False),
    sa.Column('created_at', qunyun.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', qunyun.db.base.UTCDateTime(timezone=True), nullable=True),
    _fk('levels_announcements', 'group_id', 'groups'),
    _fk('levels_announcements', 'org_id', 'organizations'),
    _fk('levels_announcements', 'person_id', 'persons'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_levels_announcements'))
    )
    op.create_index('ix_levels_announcements_org_id_sent_at', 'levels_announcements',
                    ['org_id', 'sent_at'], unique=False)
    op.create_table('leaderboard_messages',
    sa.Column('group_id', ID, nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('person_id', ID, nullable=False),
    sa.Column('community_id', ID, nullable=True),
    sa.Column('messages', sa.Integer(), nullable=False),
    _fk('leaderboard_messages', 'community_id', 'communities'),
    _fk('leaderboard_messages', 'group_id', 'groups'),
    sa.PrimaryKeyConstraint('group_id', 'day', 'person_id', name=op.f('pk_leaderboard_messages'))
    )
    op.create_index('ix_leaderboard_messages_community_id_day', 'leaderboard_messages',
                    ['community_id', 'day'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_leaderboard_messages_community_id_day', table_name='leaderboard_messages')
    op.drop_table('leaderboard_messages')
    op.drop_index('ix_levels_announcements_org_id_sent_at', table_name='levels_announcements')
    op.drop_table('levels_announcements')
    op.drop_index('ix_levels_badges_community_id_awarded_at', table_name='levels_badges')
    op.drop_table('levels_badges')
    op.drop_index('ix_levels_changes_community_id_at', table_name='levels_changes')
    op.drop_table('levels_changes')
    op.drop_index('ix_levels_activity_community_id_day', table_name='levels_activity')
    op.drop_table('levels_activity')
    op.drop_index('ix_levels_members_community_id_level', table_name='levels_members')
    op.drop_table('levels_members')
