"""The ourdesign command, run as a real subprocess on a fresh SQLite data directory."""

from __future__ import annotations

from tests.support import ourdesign


def test_help_lists_every_command(tmp_path):
    out = ourdesign(tmp_path, "--help").stdout
    for command in ("serve", "worker", "migrate", "user", "token"):
        assert command in out


def test_migrate_user_and_token(tmp_path):
    assert "up to date" in ourdesign(tmp_path, "migrate").stdout
    created = ourdesign(
        tmp_path,
        "user",
        "create",
        "ada",
        "--email",
        "ada@coop.test",
        "--password",
        "long enough",
        "--kind",
        "cooperative",
    )
    assert "https://coop.test/users/ada" in created.stdout
    token = ourdesign(tmp_path, "token", "create", "ada").stdout.strip()
    assert len(token) >= 40
    duplicate = ourdesign(
        tmp_path,
        "user",
        "create",
        "ada",
        "--email",
        "x@coop.test",
        "--password",
        "long enough",
        check=False,
    )
    assert duplicate.returncode != 0 and "taken" in duplicate.stderr
    missing = ourdesign(tmp_path, "token", "create", "nobody", check=False)
    assert missing.returncode != 0 and "nobody" in missing.stderr


def test_password_is_required_off_a_terminal(tmp_path):
    result = ourdesign(tmp_path, "user", "create", "bo", "--email", "bo@coop.test", check=False)
    assert result.returncode != 0 and "--password" in result.stderr
