"""The offer database: models, sessions, migrations, and one repository module per feature.

Only the repository modules (and migrations) touch SQLAlchemy sessions.
"""
