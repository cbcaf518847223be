"""highlights

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-22 16:00:00

Highlights (群精华): one row per marking period of a message, closed (never deleted) when it is
unmarked; at most one open row per group and message; listed per group by marking time.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import qunyun.db.base

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
ACTIVE = sa.text('unmarked_at IS NULL')


def upgrade() -> None:
    op.create_table('highlights',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('org_id', BIG_ID, nullable=False),
    sa.Column('group_id', BIG_ID, nullable=False),
    sa.Column('message_id', sa.String(length=200), nullable=False),
    sa.Column('event_id', sa.String(length=200), nullable=False),
    sa.Column('author_person_id', BIG_ID, nullable=True),
    sa.Column('author_name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('posted_at', qunyun.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('marked_at', qunyun.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('marked_by', sa.String(length=200), nullable=False),
    sa.Column('marked_by_person_id', BIG_ID, nullable=True),
    sa.Column('unmarked_at', qunyun.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('unmarked_by', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['author_person_id'], ['persons.id'], name=op.f('fk_highlights_author_person_id_persons')),
    sa.ForeignKeyConstraint(['group_id'], ['groups.id'], name=op.f('fk_highlights_group_id_groups')),
    sa.ForeignKeyConstraint(['marked_by_person_id'], ['persons.id'], name=op.f('fk_highlights_marked_by_person_id_persons')),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_highlights_org_id_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_highlights'))
    )
    with op.batch_alter_table('highlights', schema=None) as batch_op:
        batch_op.create_index('ix_highlights_group_id_marked_at', ['group_id', 'marked_at'], unique=False)
        batch_op.create_index('uq_highlights_active', ['group_id', 'message_id'], unique=True,
                              sqlite_where=ACTIVE, postgresql_where=ACTIVE)


def downgrade() -> None:
    with op.batch_alter_table('highlights', schema=None) as batch_op:
        batch_op.drop_index('uq_highlights_active', sqlite_where=ACTIVE, postgresql_where=ACTIVE)
        batch_op.drop_index('ix_highlights_group_id_marked_at')

    op.drop_table('highlights')
