"""ballot box, sessions, branch members, oversight flags

Revision ID: c4e81f0d5a27
Revises: b7d2c41e9a10
Create Date: 2026-12-01 23:00:00

* ``sealed_ballot``: the ballot box between using a code and counting its answers.
* The tally tables become ``WITHOUT ROWID`` on SQLite (a rowid says which respondent created
  the row); the survey threshold may no longer be below 3, as the application already required.
* ``survey.is_published``: set where results have already been visible (closed, or open live).
* Paper drafts are stored sealed: existing ones are sealed here with the app's SECRET_KEY.
* ``user_session`` (server-side sign-out), ``branch_members`` (members per branch and
  category), ``audit_entry.is_flagged`` (the supervisors' oversight page).
"""

from alembic import op
import sqlalchemy as sa


revision = 'c4e81f0d5a27'
down_revision = 'b7d2c41e9a10'
branch_labels = None
depends_on = None

TALLIES = ('answer_tally', 'total_tally', 'respondent_tally')


def upgrade() -> None:
    bind = op.get_bind()
    _survey_and_audit_columns()
    _create_tables()
    _store_drafts_sealed(bind)
    if bind.dialect.name == 'sqlite':
        for name in TALLIES:
            with op.batch_alter_table(
                name, recreate='always', table_kwargs={'sqlite_with_rowid': False}
            ):
                pass


def _survey_and_audit_columns() -> None:
    """The threshold's new floor, ``survey.is_published`` and ``audit_entry.is_flagged``."""
    op.execute("UPDATE survey SET threshold = 3 WHERE threshold < 3")
    with op.batch_alter_table('survey') as batch_op:
        batch_op.drop_constraint('threshold_positive', type_='check')
        batch_op.create_check_constraint('threshold_at_least_three', 'threshold >= 3')
        batch_op.add_column(
            sa.Column('is_published', sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.execute(
        "UPDATE survey SET is_published = true WHERE state = 'closed' "
        "OR (state = 'open' AND results_visibility = 'live')"
    )
    with op.batch_alter_table('audit_entry') as batch_op:
        batch_op.add_column(
            sa.Column('is_flagged', sa.Boolean(), nullable=False, server_default=sa.false())
        )


def _create_tables() -> None:
    """The ballot box, branch members and server-side sessions."""
    op.create_table('sealed_ballot',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.Enum('web', 'paper', name='sealed_source', native_enum=False, create_constraint=True, length=24), nullable=False),
    sa.Column('sealed', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['branch_id'], ['branch.id'], ),
    sa.ForeignKeyConstraint(['category_id'], ['respondent_category.id'], ),
    sa.ForeignKeyConstraint(['survey_id'], ['survey.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sqlite_with_rowid=False,
    )
    op.create_index('ix_sealed_ballot_group', 'sealed_ballot', ['survey_id', 'branch_id', 'category_id', 'source'], unique=False)
    op.create_table('branch_members',
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('category_key', sa.String(length=40), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['branch_id'], ['branch.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('branch_id', 'category_key')
    )
    op.create_table('user_session',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token_hash')
    )
    op.create_index(op.f('ix_user_session_user_id'), 'user_session', ['user_id'], unique=False)


def _store_drafts_sealed(bind) -> None:
    """Replace the drafts' clear payload by a sealed one."""
    with op.batch_alter_table('ballot_draft') as batch_op:
        batch_op.add_column(sa.Column('sealed_payload', sa.LargeBinary(), nullable=True))
    _seal_drafts(bind)
    with op.batch_alter_table('ballot_draft') as batch_op:
        batch_op.drop_column('payload')
        batch_op.alter_column('sealed_payload', existing_type=sa.LargeBinary(), nullable=False)


def _seal_drafts(bind) -> None:
    """Seal the drafts kept in clear so far, with the key of the app running the migration."""
    rows = bind.execute(sa.text("SELECT id, payload FROM ballot_draft")).all()
    if not rows:
        return
    from survey.services.ballot_drafts import SEALED_AS
    from survey.services.ballot_seal import seal_bytes

    for draft_id, payload in rows:
        bind.execute(
            sa.text("UPDATE ballot_draft SET sealed_payload = :sealed WHERE id = :id"),
            {"sealed": seal_bytes(payload.encode('utf-8'), SEALED_AS), "id": draft_id},
        )


def downgrade() -> None:
    raise NotImplementedError("the ballot box cannot be undone: sealed ballots would be lost")
