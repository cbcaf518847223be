"""autoreply

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 14:00:00

Auto-replies and the FAQ: each community's knowledge base (entries never deleted, a revision
that moves on every edit), the questions it could not answer (one row per set of similar
repeats), and when each rule last replied in each group (cooldowns, in event time).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import qunyun.db.base

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('autoreply_faq_books',
    sa.Column('community_id', ID, nullable=False),
    sa.Column('org_id', ID, nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_autoreply_faq_books_community_id_communities')),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_autoreply_faq_books_org_id_organizations')),
    sa.PrimaryKeyConstraint('community_id', name=op.f('pk_autoreply_faq_books'))
    )
    op.create_table('autoreply_faq_entries',
    sa.Column('id', ID, nullable=False),
    sa.Column('org_id', ID, nullable=False),
    sa.Column('community_id', ID, nullable=False),
    sa.Column('question', sa.String(length=200), nullable=False),
    sa.Column('alternatives', sa.JSON(), nullable=False),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('hits', sa.Integer(), nullable=False),
    sa.Column('created_at', qunyun.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=False),
    sa.Column('updated_at', qunyun.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=120), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_autoreply_faq_entries_community_id_communities')),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_autoreply_faq_entries_org_id_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_autoreply_faq_entries'))
    )
    op.create_index('ix_autoreply_faq_entries_community_id_id', 'autoreply_faq_entries',
                    ['community_id', 'id'], unique=False)
    op.create_table('autoreply_unanswered',
    sa.Column('id', ID, nullable=False),
    sa.Column('org_id', ID, nullable=False),
    sa.Column('community_id', ID, nullable=False),
    sa.Column('signature', sa.String(length=200), nullable=False),
    sa.Column('text', sa.String(length=200), nullable=False),
    sa.Column('group_id', ID, nullable=False),
    sa.Column('first_at', qunyun.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_at', qunyun.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('resolved', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_autoreply_unanswered_community_id_communities')),
    sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_autoreply_unanswered_group_id_groups')),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_autoreply_unanswered_org_id_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_autoreply_unanswered'))
    )
    op.create_index('uq_autoreply_unanswered_community_id_signature', 'autoreply_unanswered',
                    ['community_id', 'signature'], unique=True)
    op.create_index('ix_autoreply_unanswered_community_id_resolved_count', 'autoreply_unanswered',
                    ['community_id', 'resolved', 'count'], unique=False)
    op.create_table('autoreply_cooldowns',
    sa.Column('group_id', ID, nullable=False),
    sa.Column('rule_key', sa.String(length=300), nullable=False),
    sa.Column('member', sa.String(length=200), nullable=False),
    sa.Column('last_reply_at', qunyun.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_autoreply_cooldowns_group_id_groups')),
    sa.PrimaryKeyConstraint('group_id', 'rule_key', 'member', name=op.f('pk_autoreply_cooldowns'))
    )


def downgrade() -> None:
    op.drop_table('autoreply_cooldowns')
    op.drop_index('ix_autoreply_unanswered_community_id_resolved_count',
                  table_name='autoreply_unanswered')
    op.drop_index('uq_autoreply_unanswered_community_id_signature',
                  table_name='autoreply_unanswered')
    op.drop_table('autoreply_unanswered')
    op.drop_index('ix_autoreply_faq_entries_community_id_id', table_name='autoreply_faq_entries')
    op.drop_table('autoreply_faq_entries')
    op.drop_table('autoreply_faq_books')
