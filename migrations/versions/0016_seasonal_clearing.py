"""Seasonal clearing: facility calendars and generation profiles, and storage yards.

Revision ID: 0016
Revises: 0001
Create Date: 2026-11-30 22:20:00

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0016'
down_revision: Union[str, Sequence[str], None] = '0011'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('facilities', schema=None) as batch_op:
        batch_op.add_column(sa.Column('operating_months', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('generation_profile', sa.JSON(), nullable=True))
    op.create_table('yards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('base_id', sa.Integer(), nullable=True),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('capacity_t', sa.Numeric(precision=14, scale=3), nullable=False),
    sa.Column('cost_yuan_per_t_month', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('loss_pct_per_month', sa.Numeric(precision=6, scale=3), nullable=False),
    sa.Column('is_demo', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('capacity_t > 0', name=op.f('ck_yards_capacity_positive')),
    sa.CheckConstraint('cost_yuan_per_t_month >= 0', name=op.f('ck_yards_cost_non_negative')),
    sa.CheckConstraint('loss_pct_per_month >= 0 AND loss_pct_per_month < 100', name=op.f('ck_yards_loss_pct_range')),
    sa.CheckConstraint('lon BETWEEN -180 AND 180 AND lat BETWEEN -90 AND 90', name=op.f('ck_yards_lonlat_range')),
    sa.ForeignKeyConstraint(['base_id'], ['bases.id'], name=op.f('fk_yards_base_id_bases')),
    sa.ForeignKeyConstraint(['category_id'], ['waste_categories.id'], name=op.f('fk_yards_category_id_waste_categories')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_yards_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_yards'))
    )
    with op.batch_alter_table('yards', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_yards_base_id'), ['base_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_yards_category_id'), ['category_id'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('yards', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_yards_category_id'))
        batch_op.drop_index(batch_op.f('ix_yards_base_id'))
    op.drop_table('yards')
    with op.batch_alter_table('facilities', schema=None) as batch_op:
        batch_op.drop_column('generation_profile')
        batch_op.drop_column('operating_months')
