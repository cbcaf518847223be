"""blacklist and appeals

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-22 15:10:00

The organization blacklist (entries never deleted; at most one standing entry per person), the
platform accounts each entry snapshots (shared lists match across organizations by them), the
subscriptions to other organizations' shared lists, and the appeals against moderation cases
(at most one open appeal per case).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import qunyun.db.base

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
STANDING = sa.text('removed_at IS NULL')
SUBSCRIBED = sa.text('ended_at IS NULL')
OPEN = sa.text("status = 'open'")
UTC = qunyun.db.base.UTCDateTime(timezone=True)


def _blacklist() -> None:
    op.create_table('blacklist_entries',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('org_id', BIG_ID, nullable=False),
    sa.Column('person_id', BIG_ID, nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('added_by', sa.String(length=200), nullable=False),
    sa.Column('added_at', UTC, nullable=False),
    sa.Column('expires_at', UTC, nullable=True),
    sa.Column('removed_at', UTC, nullable=True),
    sa.Column('removed_by', sa.String(length=200), nullable=True),
    sa.Column('shared', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_blacklist_entries_org_id_organizations')),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_blacklist_entries_person_id_persons')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_blacklist_entries'))
    )
    with op.batch_alter_table('blacklist_entries', schema=None) as batch_op:
        batch_op.create_index('ix_blacklist_entries_org_id_person_id', ['org_id', 'person_id'], unique=False)
        batch_op.create_index('ix_blacklist_entries_org_id_added_at', ['org_id', 'added_at'], unique=False)
        batch_op.create_index('uq_blacklist_entries_standing', ['org_id', 'person_id'], unique=True,
                              sqlite_where=STANDING, postgresql_where=STANDING)
    op.create_table('blacklist_accounts',
    sa.Column('entry_id', BIG_ID, nullable=False),
    sa.Column('platform', sa.String(length=32), nullable=False),
    sa.Column('platform_user_id', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['blacklist_entries.id'], name=op.f('fk_blacklist_accounts_entry_id_blacklist_entries')),
    sa.PrimaryKeyConstraint('entry_id', 'platform', 'platform_user_id', name=op.f('pk_blacklist_accounts'))
    )
    with op.batch_alter_table('blacklist_accounts', schema=None) as batch_op:
        batch_op.create_index('ix_blacklist_accounts_platform_platform_user_id', ['platform', 'platform_user_id'], unique=False)
    op.create_table('blacklist_subscriptions',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('org_id', BIG_ID, nullable=False),
    sa.Column('source_org_id', BIG_ID, nullable=False),
    sa.Column('created_at', UTC, nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('ended_at', UTC, nullable=True),
    sa.Column('ended_by', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_blacklist_subscriptions_org_id_organizations')),
    sa.ForeignKeyConstraint(['source_org_id'], ['organizations.id'], name=op.f('fk_blacklist_subscriptions_source_org_id_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_blacklist_subscriptions'))
    )
    with op.batch_alter_table('blacklist_subscriptions', schema=None) as batch_op:
        batch_op.create_index('uq_blacklist_subscriptions_standing', ['org_id', 'source_org_id'], unique=True,
                              sqlite_where=SUBSCRIBED, postgresql_where=SUBSCRIBED)


def _appeals() -> None:
    op.create_table('moderation_appeals',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('org_id', BIG_ID, nullable=False),
    sa.Column('case_id', BIG_ID, nullable=False),
    sa.Column('person_id', BIG_ID, nullable=False),
    sa.Column('platform', sa.String(length=32), nullable=False),
    sa.Column('member', sa.String(length=200), nullable=False),
    sa.Column('event_id', sa.String(length=200), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('opened_at', UTC, nullable=False),
    sa.Column('decided_at', UTC, nullable=True),
    sa.Column('decided_by', sa.String(length=200), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['moderation_cases.id'], name=op.f('fk_moderation_appeals_case_id_moderation_cases')),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_moderation_appeals_org_id_organizations')),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_moderation_appeals_person_id_persons')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_moderation_appeals'))
    )
    with op.batch_alter_table('moderation_appeals', schema=None) as batch_op:
        batch_op.create_index('ix_moderation_appeals_org_id_status_opened_at', ['org_id', 'status', 'opened_at'], unique=False)
        batch_op.create_index('ix_moderation_appeals_case_id', ['case_id'], unique=False)
        batch_op.create_index('uq_moderation_appeals_open_case', ['case_id'], unique=True,
                              sqlite_where=OPEN, postgresql_where=OPEN)


def upgrade() -> None:
    _blacklist()
    _appeals()


def downgrade() -> None:
    with op.batch_alter_table('moderation_appeals', schema=None) as batch_op:
        batch_op.drop_index('uq_moderation_appeals_open_case', sqlite_where=OPEN, postgresql_where=OPEN)
        batch_op.drop_index('ix_moderation_appeals_case_id')
        batch_op.drop_index('ix_moderation_appeals_org_id_status_opened_at')
    op.drop_table('moderation_appeals')
    with op.batch_alter_table('blacklist_subscriptions', schema=None) as batch_op:
        batch_op.drop_index('uq_blacklist_subscriptions_standing', sqlite_where=SUBSCRIBED, postgresql_where=SUBSCRIBED)
    op.drop_table('blacklist_subscriptions')
    with op.batch_alter_table('blacklist_accounts', schema=None) as batch_op:
        batch_op.drop_index('ix_blacklist_accounts_platform_platform_user_id')
    op.drop_table('blacklist_accounts')
    with op.batch_alter_table('blacklist_entries', schema=None) as batch_op:
        batch_op.drop_index('uq_blacklist_entries_standing', sqlite_where=STANDING, postgresql_where=STANDING)
        batch_op.drop_index('ix_blacklist_entries_org_id_added_at')
        batch_op.drop_index('ix_blacklist_entries_org_id_person_id')
    op.drop_table('blacklist_entries')
