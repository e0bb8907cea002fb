"""the rectification stage: opinions and themes, plans and measures, public feedback

Revision ID: e5b17c9d4a63
Revises: d9f3a6b2c815
Create Date: 2026-12-02 02:20:00

* ``theme``, ``opinion``, ``opinion_theme``: the opinion summary (意見彙總).
* ``plan``, ``measure``, ``measure_opinion``, ``measure_item``: plans, their measures, the
  opinions they answer and the items they should move.
* ``public_feedback``: feedback from the public page, stored like a response (random id, no
  time, ``WITHOUT ROWID`` on SQLite) until the office takes it in.
* ``campaign.plans_are_public``: the public page is switched on.
"""

from alembic import op
import sqlalchemy as sa


revision = 'e5b17c9d4a63'
down_revision = 'd9f3a6b2c815'
branch_labels = None
depends_on = None


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=24)


def upgrade() -> None:
    with op.batch_alter_table('campaign') as batch_op:
        batch_op.add_column(
            sa.Column('plans_are_public', sa.Boolean(), nullable=False, server_default=sa.false())
        )
    _plans()
    _opinions()
    _links()
    op.create_table('public_feedback',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['plan_id'], ['plan.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sqlite_with_rowid=False,
    )
    op.create_index(
        op.f('ix_public_feedback_campaign_id'), 'public_feedback', ['campaign_id'], unique=False
    )


def _plans() -> None:
    op.create_table('plan',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('state', _enum('plan_state', 'draft', 'discussed', 'filed'), nullable=False),
    sa.Column('discussed_on', sa.Date(), nullable=True),
    sa.Column('filed_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['branch_id'], ['branch.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('campaign_id', 'branch_id')
    )
    op.create_index(op.f('ix_plan_campaign_id'), 'plan', ['campaign_id'], unique=False)
    op.create_table('measure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('for_members', sa.Boolean(), nullable=False),
    sa.Column('problem', sa.Text(), nullable=False),
    sa.Column('method', sa.Text(), nullable=False),
    sa.Column('expected_effect', sa.Text(), nullable=False),
    sa.Column('problem_class', _enum('problem_class', 'immediate', 'by_deadline', 'gradual'),
              nullable=False),
    sa.Column('department', sa.String(length=200), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=True),
    sa.Column('status', _enum('measure_status', 'not_started', 'in_progress', 'done', 'delayed'),
              nullable=False),
    sa.Column('status_note', sa.Text(), nullable=False),
    sa.Column('new_deadline', sa.Date(), nullable=True),
    sa.Column('done_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['plan_id'], ['plan.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_measure_plan_id'), 'measure', ['plan_id'], unique=False)


def _opinions() -> None:
    op.create_table('theme',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('campaign_id', 'name')
    )
    op.create_table('opinion',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=True),
    sa.Column('source', _enum('opinion_source', 'forum', 'opinion_box', 'form', 'proposal',
                              'survey_comment', 'public_feedback'), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('merged_into_id', sa.Integer(), nullable=True),
    sa.Column('plan_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('count >= 1', name='opinion_count_positive'),
    sa.ForeignKeyConstraint(['branch_id'], ['branch.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['merged_into_id'], ['opinion.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['plan_id'], ['plan.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_opinion_campaign_id'), 'opinion', ['campaign_id'], unique=False)


def _links() -> None:
    op.create_table('opinion_theme',
    sa.Column('opinion_id', sa.Integer(), nullable=False),
    sa.Column('theme_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['opinion_id'], ['opinion.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['theme_id'], ['theme.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('opinion_id', 'theme_id')
    )
    op.create_table('measure_opinion',
    sa.Column('measure_id', sa.Integer(), nullable=False),
    sa.Column('opinion_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['measure_id'], ['measure.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['opinion_id'], ['opinion.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('measure_id', 'opinion_id')
    )
    op.create_table('measure_item',
    sa.Column('measure_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['item.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['measure_id'], ['measure.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('measure_id', 'item_id')
    )


def downgrade() -> None:
    for table in ('public_feedback', 'measure_item', 'measure_opinion', 'opinion_theme',
                  'opinion', 'theme', 'measure', 'plan'):
        op.drop_table(table)
    with op.batch_alter_table('campaign') as batch_op:
        batch_op.drop_column('plans_are_public')
