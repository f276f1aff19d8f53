"""The ourdesign command, run as a real subprocess on a fresh SQLite data directory."""

from __future__ import annotations

import os
import subprocess
import sys


def _ourdesign(tmp_path, *args, check=True):
    env = {
        **os.environ,
        "OURDESIGN_DATA_DIR": str(tmp_path),
        "OURDESIGN_DOMAIN": "coop.test",
        "OURDESIGN_SCHEME": "https",
    }
    env.pop("OURDESIGN_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "web.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        check=check,
    )


def test_help_lists_every_command(tmp_path):
    out = _ourdesign(tmp_path, "--help").stdout
    for command in ("serve", "worker", "migrate", "user", "token"):
        assert command in out


def test_migrate_user_and_token(tmp_path):
    assert "up to date" in _ourdesign(tmp_path, "migrate").stdout
    created = _ourdesign(
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
    token = _ourdesign(tmp_path, "token", "create", "ada").stdout.strip()
    assert len(token) >= 40
    duplicate = _ourdesign(
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
    missing = _ourdesign(tmp_path, "token", "create", "nobody", check=False)
    assert missing.returncode != 0 and "nobody" in missing.stderr


def test_password_is_required_off_a_terminal(tmp_path):
    result = _ourdesign(tmp_path, "user", "create", "bo", "--email", "bo@coop.test", check=False)
    assert result.returncode != 0 and "--password" in result.stderr
