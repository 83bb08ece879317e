"""Staff review of transcripts: staff accounts and sessions, the transcript index, tags,
notes and corrections. (Another branch adds "0002"; the lead re-chains at merge.)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 23:06:20.940351
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Applies this revision."""
    op.create_table(
        "staff_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=300), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "reviewer",
                "admin",
                name="staff_role",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_users")),
        sa.UniqueConstraint("username", name=op.f("uq_staff_users_username")),
    )
    op.create_table(
        "review_conversations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sender_id", sa.String(length=255), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_event_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("turns", sa.Integer(), nullable=False),
        sa.Column("min_confidence", sa.Float(), nullable=True),
        sa.Column("fell_back", sa.Boolean(), nullable=False),
        sa.Column("asked_human", sa.Boolean(), nullable=False),
        sa.Column("linked", sa.Boolean(), nullable=False),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reviewed_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["reviewed_by"],
            ["staff_users.id"],
            name=op.f("fk_review_conversations_reviewed_by_staff_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_conversations")),
    )
    with op.batch_alter_table("review_conversations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_review_conversations_channel_started", ["channel", "started_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_review_conversations_last_event_at"), ["last_event_at"], unique=False
        )
        batch_op.create_index(
            "ix_review_conversations_min_confidence", ["min_confidence"], unique=False
        )
        batch_op.create_index(
            "ix_review_conversations_sender_started", ["sender_id", "started_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_review_conversations_started_at"), ["started_at"], unique=False
        )

    op.create_table(
        "staff_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_users.id"],
            name=op.f("fk_staff_sessions_staff_id_staff_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_staff_sessions")),
    )
    with op.batch_alter_table("staff_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_sessions_staff_id"), ["staff_id"], unique=False)

    op.create_table(
        "review_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=4), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("folded_text", sa.Text(), nullable=False),
        sa.Column("intent", sa.String(length=100), nullable=True),
        sa.Column("faq_key", sa.String(length=100), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("fell_back", sa.Boolean(), nullable=False),
        sa.Column("action", sa.String(length=100), nullable=True),
        sa.CheckConstraint("kind IN ('user', 'bot')", name=op.f("ck_review_messages_kind_known")),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["review_conversations.id"],
            name=op.f("fk_review_messages_conversation_id_review_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_messages")),
    )
    with op.batch_alter_table("review_messages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_review_messages_conversation_position",
            ["conversation_id", "position"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_review_messages_faq_key"), ["faq_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_review_messages_intent"), ["intent"], unique=False)
        batch_op.create_index(batch_op.f("ix_review_messages_sent_at"), ["sent_at"], unique=False)

    op.create_table(
        "review_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["review_conversations.id"],
            name=op.f("fk_review_notes_conversation_id_review_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_users.id"],
            name=op.f("fk_review_notes_staff_id_staff_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_notes")),
    )
    with op.batch_alter_table("review_notes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_review_notes_conversation_id"), ["conversation_id"], unique=False
        )

    op.create_table(
        "review_tags",
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(length=50), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["review_conversations.id"],
            name=op.f("fk_review_tags_conversation_id_review_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("conversation_id", "tag", name=op.f("pk_review_tags")),
    )
    with op.batch_alter_table("review_tags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_review_tags_tag"), ["tag"], unique=False)

    op.create_table(
        "review_corrections",
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("intent", sa.String(length=100), nullable=False),
        sa.Column("faq_key", sa.String(length=100), nullable=True),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["review_messages.id"],
            name=op.f("fk_review_corrections_message_id_review_messages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_users.id"],
            name=op.f("fk_review_corrections_staff_id_staff_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_review_corrections")),
    )


def downgrade() -> None:
    """Reverts this revision."""
    op.drop_table("review_corrections")
    with op.batch_alter_table("review_tags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_tags_tag"))

    op.drop_table("review_tags")
    with op.batch_alter_table("review_notes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_notes_conversation_id"))

    op.drop_table("review_notes")
    with op.batch_alter_table("review_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_messages_sent_at"))
        batch_op.drop_index(batch_op.f("ix_review_messages_intent"))
        batch_op.drop_index(batch_op.f("ix_review_messages_faq_key"))
        batch_op.drop_index("ix_review_messages_conversation_position")

    op.drop_table("review_messages")
    with op.batch_alter_table("staff_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_sessions_staff_id"))

    op.drop_table("staff_sessions")
    with op.batch_alter_table("review_conversations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_conversations_started_at"))
        batch_op.drop_index("ix_review_conversations_sender_started")
        batch_op.drop_index("ix_review_conversations_min_confidence")
        batch_op.drop_index(batch_op.f("ix_review_conversations_last_event_at"))
        batch_op.drop_index("ix_review_conversations_channel_started")

    op.drop_table("review_conversations")
    op.drop_table("staff_users")
