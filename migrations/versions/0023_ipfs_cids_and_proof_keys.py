"""IPFS CIDs of version files, and each local actor's key for object integrity proofs

The proof key (Ed25519, PKCS#8 PEM) is made at an actor's first need, so the column
starts empty.

CIDs are computed as `ipfs add --cid-version 1 --raw-leaves` computes them.

Until now every file was shown with the raw CID of its SHA-256, which IPFS gives only to a
file of one chunk (256 KiB at most). Larger files get a UnixFS root CID that depends on
every chunk, so it is stored. Existing rows are filled here: from the SHA-256 for a small
file, from the bytes in the blob store for a larger one we hold; a larger remote file we
do not hold keeps none (its CID cannot be known without its bytes).

Revision ID: 0023
Revises: 0020
Create Date: 2026-12-07 21:50:00.000000
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import context, op

from objects.blobs import BlobStore, StoredBlob
from objects.unixfs import cid_text

revision = "0023"
down_revision = "0020"
branch_labels = None
depends_on = None

files = sa.table(
    "version_files",
    sa.column("id", sa.Integer),
    sa.column("sha256", sa.String),
    sa.column("size", sa.Integer),
    sa.column("cid", sa.String),
)


def upgrade() -> None:
    with op.batch_alter_table("actors", schema=None) as batch_op:
        batch_op.add_column(sa.Column("proof_key_pem", sa.Text(), nullable=True))
    with op.batch_alter_table("version_files", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cid", sa.String(length=128), nullable=True))
        batch_op.create_index("ix_version_files_cid", ["cid"], unique=False)
    data_dir = context.config.attributes.get("data_dir")
    store = BlobStore(Path(data_dir) / "files") if data_dir is not None else None
    connection = op.get_bind()
    rows = connection.execute(sa.select(files.c.id, files.c.sha256, files.c.size)).all()
    for row_id, sha256, size in rows:
        cid = _cid(store, sha256, size)
        if cid is not None:
            connection.execute(files.update().where(files.c.id == row_id).values(cid=cid))


def _cid(store: BlobStore | None, sha256: str, size: int) -> str | None:
    known = StoredBlob(sha256, size).cid
    if known is not None or store is None or not store.exists(sha256):
        return known
    return cid_text(store.dag_of(sha256).cid)


def downgrade() -> None:
    # Plain ALTER TABLE … DROP COLUMN (SQLite 3.35+), not a batch: a batch rebuilds the
    # table, and on SQLite dropping `actors` would cascade-delete every row that names one.
    op.drop_index("ix_version_files_cid", table_name="version_files")
    op.drop_column("version_files", "cid")
    op.drop_column("actors", "proof_key_pem")
