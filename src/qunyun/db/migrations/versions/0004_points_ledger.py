"""points ledger

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 11:32:44

The points ledger: append-only entries (unique idempotency key per organization) and one
balance row per person and community, kept in the same transaction, never negative.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import qunyun.db.base

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('points_balances',
    sa.Column('org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('community_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('person_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('balance', sa.Integer(), nullable=False),
    sa.Column('lifetime_earned', sa.Integer(), nullable=False),
    sa.Column('updated_at', qunyun.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('balance >= 0', name=op.f('ck_points_balances_balance_not_negative')),
    sa.CheckConstraint('lifetime_earned >= 0', name=op.f('ck_points_balances_lifetime_earned_not_negative')),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_points_balances_community_id_communities')),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_points_balances_org_id_organizations')),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_points_balances_person_id_persons')),
    sa.PrimaryKeyConstraint('community_id', 'person_id', name=op.f('pk_points_balances'))
    )
    op.create_table('points_entries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('community_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('person_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('source_event', sa.String(length=300), nullable=True),
    sa.Column('idempotency_key', sa.String(length=300), nullable=False),
    sa.Column('created_at', qunyun.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_points_entries_community_id_communities')),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_points_entries_org_id_organizations')),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_points_entries_person_id_persons')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_points_entries')),
    sa.UniqueConstraint('org_id', 'idempotency_key', name=op.f('uq_points_entries_org_id_idempotency_key'))
    )
    with op.batch_alter_table('points_entries', schema=None) as batch_op:
        batch_op.create_index('ix_points_entries_community_id_person_id_created_at', ['community_id', 'person_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_points_entries_person_id'), ['person_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('points_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_points_entries_person_id'))
        batch_op.drop_index('ix_points_entries_community_id_person_id_created_at')

    op.drop_table('points_entries')
    op.drop_table('points_balances')
