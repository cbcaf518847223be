"""entry gates

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-22 15:30:00

The `gate` feature: invite codes (one use counted per entry, never more than the limit), join
requests (one per platform request id and group: every decision with who made it and why), paid
entitlements (one per order), member numbers per community (a number belongs to one person) and
the counter that hands them out.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import qunyun.db.base

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
UTC = qunyun.db.base.UTCDateTime(timezone=True)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f'{target}.id'],
                                   name=op.f(f'fk_{table}_{column}_{target}'))


def _codes() -> None:
    t = 'gate_invite_codes'
    op.create_table(t,
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('org_id', BIG_ID, nullable=False),
    sa.Column('community_id', BIG_ID, nullable=False),
    sa.Column('group_id', BIG_ID, nullable=True),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('owner_person_id', BIG_ID, nullable=True),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.Column('max_uses', sa.Integer(), nullable=True),
    sa.Column('uses', sa.Integer(), nullable=False),
    sa.Column('expires_at', UTC, nullable=True),
    sa.Column('revoked_at', UTC, nullable=True),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', UTC, nullable=False),
    sa.CheckConstraint('uses >= 0 AND (max_uses IS NULL OR uses <= max_uses)',
                       name=op.f('ck_gate_invite_codes_uses_within_limit')),
    _fk(t, 'community_id', 'communities'),
    _fk(t, 'group_id', 'groups'),
    _fk(t, 'org_id', 'organizations'),
    _fk(t, 'owner_person_id', 'persons'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gate_invite_codes')),
    sa.UniqueConstraint('org_id', 'code', name=op.f('uq_gate_invite_codes_org_id_code'))
    )
    with op.batch_alter_table(t, schema=None) as batch_op:
        batch_op.create_index('ix_gate_invite_codes_community_id', ['community_id'],
                              unique=False)


def _requests() -> None:
    t = 'gate_join_requests'
    op.create_table(t,
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('org_id', BIG_ID, nullable=False),
    sa.Column('group_id', BIG_ID, nullable=False),
    sa.Column('person_id', BIG_ID, nullable=False),
    sa.Column('member', sa.String(length=200), nullable=False),
    sa.Column('request_id', sa.String(length=200), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('inviter', sa.String(length=200), nullable=True),
    sa.Column('via', sa.String(length=16), nullable=True),
    sa.Column('code', sa.String(length=200), nullable=True),
    sa.Column('code_id', BIG_ID, nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('waiting_for', sa.String(length=16), nullable=False),
    sa.Column('item', sa.String(length=200), nullable=False),
    sa.Column('price_cents', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=8), nullable=False),
    sa.Column('numbering', sa.Boolean(), nullable=False),
    sa.Column('rule', sa.String(length=32), nullable=False),
    sa.Column('decided_by', sa.String(length=200), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('event_id', sa.String(length=300), nullable=False),
    sa.Column('created_at', UTC, nullable=False),
    sa.Column('decided_at', UTC, nullable=True),
    sa.Column('expires_at', UTC, nullable=True),
    sa.Column('joined_at', UTC, nullable=True),
    _fk(t, 'code_id', 'gate_invite_codes'),
    _fk(t, 'group_id', 'groups'),
    _fk(t, 'org_id', 'organizations'),
    _fk(t, 'person_id', 'persons'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gate_join_requests')),
    sa.UniqueConstraint('group_id', 'request_id',
                        name=op.f('uq_gate_join_requests_group_id_request_id'))
    )
    with op.batch_alter_table(t, schema=None) as batch_op:
        batch_op.create_index('ix_gate_join_requests_org_id_status_id',
                              ['org_id', 'status', 'id'], unique=False)
        batch_op.create_index('ix_gate_join_requests_group_id_person_id',
                              ['group_id', 'person_id'], unique=False)
        batch_op.create_index('ix_gate_join_requests_person_id_status',
                              ['person_id', 'status'], unique=False)
        batch_op.create_index('ix_gate_join_requests_code_id', ['code_id'], unique=False)


def _entitlements() -> None:
    t = 'gate_entitlements'
    op.create_table(t,
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('org_id', BIG_ID, nullable=False),
    sa.Column('person_id', BIG_ID, nullable=False),
    sa.Column('platform', sa.String(length=32), nullable=False),
    sa.Column('order_id', sa.String(length=200), nullable=False),
    sa.Column('item', sa.String(length=200), nullable=False),
    sa.Column('amount_cents', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=8), nullable=False),
    sa.Column('paid_at', UTC, nullable=False),
    sa.Column('used_at', UTC, nullable=True),
    sa.Column('used_by', BIG_ID, nullable=True),
    _fk(t, 'org_id', 'organizations'),
    _fk(t, 'person_id', 'persons'),
    sa.ForeignKeyConstraint(['used_by'], ['gate_join_requests.id'],
                            name=op.f('fk_gate_entitlements_used_by_gate_join_requests')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gate_entitlements')),
    sa.UniqueConstraint('org_id', 'platform', 'order_id',
                        name=op.f('uq_gate_entitlements_org_id_platform_order_id'))
    )
    with op.batch_alter_table(t, schema=None) as batch_op:
        batch_op.create_index('ix_gate_entitlements_person_id_used_at',
                              ['person_id', 'used_at'], unique=False)


def _numbers() -> None:
    t = 'gate_member_numbers'
    op.create_table(t,
    sa.Column('community_id', BIG_ID, nullable=False),
    sa.Column('person_id', BIG_ID, nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('assigned_at', UTC, nullable=False),
    _fk(t, 'community_id', 'communities'),
    _fk(t, 'person_id', 'persons'),
    sa.PrimaryKeyConstraint('community_id', 'person_id', name=op.f('pk_gate_member_numbers')),
    sa.UniqueConstraint('community_id', 'number',
                        name=op.f('uq_gate_member_numbers_community_id_number'))
    )
    t = 'gate_number_counters'
    op.create_table(t,
    sa.Column('community_id', BIG_ID, nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    _fk(t, 'community_id', 'communities'),
    sa.PrimaryKeyConstraint('community_id', name=op.f('pk_gate_number_counters'))
    )


def upgrade() -> None:
    _codes()
    _requests()
    _entitlements()
    _numbers()


def downgrade() -> None:
    op.drop_table('gate_number_counters')
    op.drop_table('gate_member_numbers')
    with op.batch_alter_table('gate_entitlements', schema=None) as batch_op:
        batch_op.drop_index('ix_gate_entitlements_person_id_used_at')
    op.drop_table('gate_entitlements')
    with op.batch_alter_table('gate_join_requests', schema=None) as batch_op:
        for name in ('ix_gate_join_requests_code_id', 'ix_gate_join_requests_person_id_status',
                     'ix_gate_join_requests_group_id_person_id',
                     'ix_gate_join_requests_org_id_status_id'):
            batch_op.drop_index(name)
    op.drop_table('gate_join_requests')
    with op.batch_alter_table('gate_invite_codes', schema=None) as batch_op:
        batch_op.drop_index('ix_gate_invite_codes_community_id')
    op.drop_table('gate_invite_codes')
