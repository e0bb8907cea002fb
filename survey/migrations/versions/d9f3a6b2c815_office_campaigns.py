"""the office's campaign: campaign branches, survey target, texts and schedule, archiving,
the data-entry role, draft batch numbers, paper handouts, explicit item pairing

Revision ID: d9f3a6b2c815
Revises: c4e81f0d5a27
Create Date: 2026-12-02 02:00:00

* ``campaign_branch``: the branches each campaign measures. Every existing campaign keeps every
  existing branch, so no report changes.
* ``survey``: ``target`` (a favourable rate, 0–1), ``welcome_text``, ``thanks_text``,
  ``opens_at``, ``closes_at``, ``is_archived``; ``campaign.is_archived``.
* ``user.role`` accepts ``data_entry``.
* ``ballot_draft.number``: existing drafts are numbered 1, 2, … per survey in creation order.
* ``paper_handout``: paper forms handed out per branch and category.
* ``item.compares_with_id``: an explicit pairing with an earlier stage's item.
"""

from alembic import op
import sqlalchemy as sa


revision = 'd9f3a6b2c815'
down_revision = 'c4e81f0d5a27'
branch_labels = None
depends_on = None

ROLES_BEFORE = ('admin', 'supervisor', 'branch_viewer')
ROLES_AFTER = ROLES_BEFORE + ('data_entry',)


def _allow_roles(roles: tuple[str, ...]) -> None:
    """Replace the CHECK constraint named ``user_role`` (SQLite rebuilds the table)."""
    check = "role IN (%s)" % ", ".join(f"'{role}'" for role in roles)
    with op.batch_alter_table('user') as batch_op:
        batch_op.drop_constraint('user_role', type_='check')
        batch_op.create_check_constraint('user_role', check)


def upgrade() -> None:
    _campaign_branches()
    _survey_columns()
    _allow_roles(ROLES_AFTER)
    _number_drafts()
    op.create_table('paper_handout',
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['branch_id'], ['branch.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['category_id'], ['respondent_category.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['survey_id'], ['survey.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('survey_id', 'branch_id', 'category_id')
    )
    with op.batch_alter_table('item') as batch_op:
        batch_op.add_column(sa.Column('compares_with_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            'fk_item_compares_with_id_item', 'item', ['compares_with_id'], ['id'],
            ondelete='SET NULL',
        )


def _campaign_branches() -> None:
    op.create_table('campaign_branch',
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['branch_id'], ['branch.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('campaign_id', 'branch_id')
    )
    op.execute(
        "INSERT INTO campaign_branch (campaign_id, branch_id) "
        "SELECT campaign.id, branch.id FROM campaign CROSS JOIN branch"
    )
    with op.batch_alter_table('campaign') as batch_op:
        batch_op.add_column(
            sa.Column('is_archived', sa.Boolean(), nullable=False, server_default=sa.false())
        )


def _survey_columns() -> None:
    with op.batch_alter_table('survey') as batch_op:
        batch_op.add_column(sa.Column('target', sa.Float(), nullable=True))
        batch_op.add_column(
            sa.Column('welcome_text', sa.Text(), nullable=False, server_default='')
        )
        batch_op.add_column(sa.Column('thanks_text', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('opens_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('closes_at', sa.DateTime(), nullable=True))
        batch_op.add_column(
            sa.Column('is_archived', sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.create_check_constraint(
            'target_is_a_rate', 'target IS NULL OR (target > 0 AND target <= 1)'
        )
        batch_op.create_check_constraint(
            'opens_before_closes',
            'opens_at IS NULL OR closes_at IS NULL OR opens_at < closes_at',
        )


def _number_drafts() -> None:
    with op.batch_alter_table('ballot_draft') as batch_op:
        batch_op.add_column(sa.Column('number', sa.Integer(), nullable=True))
    op.execute(
        "UPDATE ballot_draft SET number = (SELECT COUNT(*) FROM ballot_draft AS earlier "
        "WHERE earlier.survey_id = ballot_draft.survey_id AND earlier.id <= ballot_draft.id)"
    )
    with op.batch_alter_table('ballot_draft') as batch_op:
        batch_op.alter_column('number', existing_type=sa.Integer(), nullable=False)
        batch_op.create_unique_constraint(
            'uq_ballot_draft_survey_id_number', ['survey_id', 'number']
        )


def downgrade() -> None:
    with op.batch_alter_table('item') as batch_op:
        batch_op.drop_constraint('fk_item_compares_with_id_item', type_='foreignkey')
        batch_op.drop_column('compares_with_id')
    op.drop_table('paper_handout')
    with op.batch_alter_table('ballot_draft') as batch_op:
        batch_op.drop_constraint('uq_ballot_draft_survey_id_number', type_='unique')
        batch_op.drop_column('number')
    op.execute("DELETE FROM \"user\" WHERE role = 'data_entry'")
    _allow_roles(ROLES_BEFORE)
    with op.batch_alter_table('survey') as batch_op:
        batch_op.drop_constraint('opens_before_closes', type_='check')
        batch_op.drop_constraint('target_is_a_rate', type_='check')
        for column in ('is_archived', 'closes_at', 'opens_at', 'thanks_text', 'welcome_text',
                       'target'):
            batch_op.drop_column(column)
    with op.batch_alter_table('campaign') as batch_op:
        batch_op.drop_column('is_archived')
    op.drop_table('campaign_branch')
