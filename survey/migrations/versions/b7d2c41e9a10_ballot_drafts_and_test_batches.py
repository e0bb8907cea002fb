"""ballot drafts and test batches

Revision ID: b7d2c41e9a10
Revises: 65ab35e45256
Create Date: 2026-11-25 20:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = 'b7d2c41e9a10'
down_revision = '65ab35e45256'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('code_batch') as batch_op:
        batch_op.add_column(
            sa.Column('is_test', sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table('ballot_draft',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['user.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['survey_id'], ['survey.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('ballot_draft') as batch_op:
        batch_op.create_index(batch_op.f('ix_ballot_draft_survey_id'), ['survey_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('ballot_draft') as batch_op:
        batch_op.drop_index(batch_op.f('ix_ballot_draft_survey_id'))
    op.drop_table('ballot_draft')
    with op.batch_alter_table('code_batch') as batch_op:
        batch_op.drop_column('is_test')
