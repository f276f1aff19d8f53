"""`ourdesign storage`: moving an instance's stored files into an S3-compatible bucket."""

from __future__ import annotations

import click
from botocore.exceptions import BotoCoreError, ClientError

from objects.blobs import human_bytes
from objects.object_store import MoveReport, open_blob_store, push_all
from web.ops.cli_run import run_plain, settings_of


@click.group(help="Where stored files live (the data directory or an S3-compatible bucket).")
def storage() -> None:
    pass


@storage.command(
    "move-to-s3",
    help="Upload every file of the data directory's store into the bucket that"
    " OURDESIGN_FILE_STORE=s3 and the OURDESIGN_S3_* settings name, checking each file's"
    " SHA-256 (here, and by the service on receipt). Safe to run again: files already there"
    " are skipped, so an interrupted move resumes.",
)
@click.pass_context
def move_to_s3(ctx: click.Context) -> None:
    settings = settings_of(ctx)
    if settings.file_store != "s3":
        raise click.UsageError(
            "set OURDESIGN_FILE_STORE=s3, OURDESIGN_S3_BUCKET and (for a service other than"
            " Amazon's) OURDESIGN_S3_ENDPOINT_URL and the keys first; this command moves the"
            " files into that bucket"
        )

    async def move() -> MoveReport:
        try:
            async with open_blob_store(settings) as store:
                return await push_all(store)
        except (BotoCoreError, ClientError) as exc:
            raise click.ClickException(
                f"the bucket {settings.s3_bucket!r} could not be used: {exc}. Check"
                " OURDESIGN_S3_ENDPOINT_URL, the bucket's name and the keys, then run this"
                " again (what was sent stays sent)"
            ) from exc

    report = run_plain(move())
    click.echo(
        f"sent {report.sent} file(s) ({human_bytes(report.bytes_sent)}),"
        f" {report.present} already in the bucket"
    )
    if report.damaged:
        listed = ", ".join(report.damaged[:10])
        raise click.ClickException(
            f"{len(report.damaged)} file(s) here no longer match their SHA-256 and were not"
            f" sent: {listed}. Restore them from a backup, then run this again"
        )
    click.echo("every file is in the bucket; start the instance with OURDESIGN_FILE_STORE=s3")
