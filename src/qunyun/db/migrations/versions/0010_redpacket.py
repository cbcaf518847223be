"""red packets

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-22 12:00:00

Red packets of points (`redpacket` feature): packets and their shares, cut when the packet is
made. One claim per person per packet (unique), never more claims than shares (check).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import qunyun.db.base

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('redpackets',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('community_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('group_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('sender_person_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('staff_actor', sa.String(length=200), nullable=True),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.Column('keyword', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('claimed_count', sa.Integer(), nullable=False),
    sa.Column('refunded', sa.Integer(), nullable=False),
    sa.Column('source_event', sa.String(length=300), nullable=True),
    sa.Column('message_id', sa.String(length=200), nullable=True),
    sa.Column('created_at', qunyun.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', qunyun.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', qunyun.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint('count >= 1 AND total >= count', name=op.f('ck_redpackets_shares_of_at_least_one')),
    sa.CheckConstraint('claimed_count >= 0 AND claimed_count <= count', name=op.f('ck_redpackets_claims_within_count')),
    sa.ForeignKeyConstraint(['community_id'], ['communities.id'], name=op.f('fk_redpackets_community_id_communities')),
    sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_redpackets_group_id_groups')),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_redpackets_org_id_organizations')),
    sa.ForeignKeyConstraint(['sender_person_id'], ['persons.id'], name=op.f('fk_redpackets_sender_person_id_persons')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_redpackets'))
    )
    with op.batch_alter_table('redpackets', schema=None) as batch_op:
        batch_op.create_index('ix_redpackets_org_id_status', ['org_id', 'status'], unique=False)
        batch_op.create_index('ix_redpackets_group_id_id', ['group_id', 'id'], unique=False)

    op.create_table('redpacket_shares',
    sa.Column('packet_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('claimed_at', qunyun.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('claim_event', sa.String(length=300), nullable=True),
    sa.ForeignKeyConstraint(['packet_id'], ['redpackets.id'], name=op.f('fk_redpacket_shares_packet_id_redpackets')),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_redpacket_shares_person_id_persons')),
    sa.PrimaryKeyConstraint('packet_id', 'seq', name=op.f('pk_redpacket_shares')),
    sa.UniqueConstraint('packet_id', 'person_id', name=op.f('uq_redpacket_shares_packet_id_person_id'))
    )


def downgrade() -> None:
    op.drop_table('redpacket_shares')
    with op.batch_alter_table('redpackets', schema=None) as batch_op:
        batch_op.drop_index('ix_redpackets_group_id_id')
        batch_op.drop_index('ix_redpackets_org_id_status')

    op.drop_table('redpackets')
