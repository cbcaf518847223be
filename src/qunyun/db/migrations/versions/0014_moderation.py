"""moderation

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-22 15:20:00

Moderation: one case per offending event (unique per organization and event, so an event is
punished once; never deleted, undone by status), a short memory of members' recent messages for
the flood rules, each organization's spam classifier, and the mute-all state moderation set per
group (all-mute mode, quiet hours).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import qunyun.db.base

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
UTC = qunyun.db.base.UTCDateTime(timezone=True)


def _cases() -> None:
    op.create_table('moderation_cases',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('org_id', BIG_ID, nullable=False),
    sa.Column('community_id', BIG_ID, nullable=True),
    sa.Column('group_id', BIG_ID, nullable=True),
    sa.Column('person_id', BIG_ID, nullable=True),
    sa.Column('event_id', sa.String(length=200), nullable=False),
    sa.Column('message_id', sa.String(length=200), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('rule', sa.String(length=64), nullable=False),
    sa.Column('category', sa.String(length=64), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('warnings', sa.Integer(), nullable=False),
    sa.Column('at', UTC, nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('resolved_by', sa.String(length=200), nullable=True),
    sa.Column('resolved_at', UTC, nullable=True),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_moderation_cases_community_id_communities')),
    sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_moderation_cases_group_id_groups')),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_moderation_cases_org_id_organizations')),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_moderation_cases_person_id_persons')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_moderation_cases')),
    sa.UniqueConstraint('org_id', 'event_id', name=op.f('uq_moderation_cases_org_id_event_id'))
    )
    with op.batch_alter_table('moderation_cases', schema=None) as batch_op:
        batch_op.create_index('ix_moderation_cases_group_id_at', ['group_id', 'at'], unique=False)
        batch_op.create_index('ix_moderation_cases_person_id_at', ['person_id', 'at'], unique=False)
        batch_op.create_index('ix_moderation_cases_org_id_rule', ['org_id', 'rule'], unique=False)


def upgrade() -> None:
    _cases()
    op.create_table('moderation_recent',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('org_id', BIG_ID, nullable=False),
    sa.Column('person_id', BIG_ID, nullable=False),
    sa.Column('group_id', BIG_ID, nullable=False),
    sa.Column('at', UTC, nullable=False),
    sa.Column('fingerprint', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_moderation_recent_group_id_groups')),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_moderation_recent_org_id_organizations')),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_moderation_recent_person_id_persons')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_moderation_recent'))
    )
    with op.batch_alter_table('moderation_recent', schema=None) as batch_op:
        batch_op.create_index('ix_moderation_recent_person_id_at', ['person_id', 'at'], unique=False)
        batch_op.create_index('ix_moderation_recent_org_id_at', ['org_id', 'at'], unique=False)
    op.create_table('moderation_classifiers',
    sa.Column('org_id', BIG_ID, nullable=False),
    sa.Column('model', sa.JSON(), nullable=False),
    sa.Column('spam_examples', sa.Integer(), nullable=False),
    sa.Column('ham_examples', sa.Integer(), nullable=False),
    sa.Column('updated_at', UTC, nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_moderation_classifiers_org_id_organizations')),
    sa.PrimaryKeyConstraint('org_id', name=op.f('pk_moderation_classifiers'))
    )
    op.create_table('moderation_group_modes',
    sa.Column('group_id', BIG_ID, nullable=False),
    sa.Column('org_id', BIG_ID, nullable=False),
    sa.Column('muted', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.String(length=16), nullable=False),
    sa.Column('updated_at', UTC, nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_moderation_group_modes_group_id_groups')),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_moderation_group_modes_org_id_organizations')),
    sa.PrimaryKeyConstraint('group_id', name=op.f('pk_moderation_group_modes'))
    )


def downgrade() -> None:
    op.drop_table('moderation_group_modes')
    op.drop_table('moderation_classifiers')
    with op.batch_alter_table('moderation_recent', schema=None) as batch_op:
        batch_op.drop_index('ix_moderation_recent_org_id_at')
        batch_op.drop_index('ix_moderation_recent_person_id_at')
    op.drop_table('moderation_recent')
    with op.batch_alter_table('moderation_cases', schema=None) as batch_op:
        batch_op.drop_index('ix_moderation_cases_org_id_rule')
        batch_op.drop_index('ix_moderation_cases_person_id_at')
        batch_op.drop_index('ix_moderation_cases_group_id_at')
    op.drop_table('moderation_cases')
