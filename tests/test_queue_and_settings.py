"""The leased work queue and the settings loader."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from federation.db import make_engine, make_session_factory, utcnow
from federation.errors import ValidationError
from federation.queue import claim_due
from federation.settings import Settings
from inbox.models import InboxItem
from objects.licences import LicenceError, LicencePolicy


async def test_concurrent_claims_never_hand_out_a_row_twice(new_database, tmp_path):
    engine = make_engine(Settings(database_url=await new_database()))
    sessions = make_session_factory(engine)
    now = utcnow()
    async with sessions() as session:
        session.add_all(
            InboxItem(
                activity_uri=f"https://r.test/a/{i}",
                actor_uri="https://r.test/u",
                type="Note",
                payload={},
                next_attempt_at=now,
                state="pending",
                attempts=0,
            )
            for i in range(60)
        )
        await session.commit()

    async def worker() -> list[int]:
        claimed: list[int] = []
        for _ in range(10):
            async with sessions() as session:
                rows = await claim_due(
                    session, InboxItem, now=now, limit=7, lease=dt.timedelta(minutes=1)
                )
                await session.commit()
            claimed += [row.id for row in rows]
        return claimed

    results = await asyncio.gather(*(worker() for _ in range(4)))
    every = [i for claimed in results for i in claimed]
    assert len(every) == len(set(every)) == 60
    async with sessions() as session:  # leased rows are not due again until the lease expires
        assert not await claim_due(
            session, InboxItem, now=now, limit=100, lease=dt.timedelta(minutes=1)
        )
        later = now + dt.timedelta(minutes=2)
        assert (
            len(
                await claim_due(
                    session, InboxItem, now=later, limit=100, lease=dt.timedelta(minutes=1)
                )
            )
            == 60
        )
    await engine.dispose()


def test_settings_from_environment_and_toml(tmp_path):
    config = tmp_path / "od.toml"
    config.write_text('domain = "coop.example"\ninstance_name = "Maker Coop"\n')
    settings = Settings.from_env(
        {
            "OURDESIGN_CONFIG": str(config),
            "OURDESIGN_SCHEME": "http",
            "OURDESIGN_ALLOW_PRIVATE_ADDRESSES": "yes",
        }
    )
    assert (settings.domain, settings.scheme, settings.instance_name) == (
        "coop.example",
        "http",
        "Maker Coop",
    )
    assert settings.allow_private_addresses is True
    assert settings.base_url == "http://coop.example"
    assert settings.effective_database_url.startswith("sqlite+aiosqlite:///")


@pytest.mark.parametrize(
    "environ, words",
    [
        ({"OURDESIGN_SCHEME": "ftp"}, "OURDESIGN_SCHEME"),
        ({"OURDESIGN_DOMAIN": "a.test/x"}, "OURDESIGN_DOMAIN"),
        ({"OURDESIGN_MAX_BODY_BYTES": "lots"}, "OURDESIGN_MAX_BODY_BYTES"),
        ({"OURDESIGN_ALLOW_PRIVATE_ADDRESSES": "maybe"}, "OURDESIGN_ALLOW_PRIVATE_ADDRESSES"),
    ],
)
def test_bad_settings_say_what_is_wrong(environ, words):
    with pytest.raises(ValidationError) as caught:
        Settings.from_env(environ)
    assert words in caught.value.message


def test_unknown_toml_keys_are_refused(tmp_path):
    config = tmp_path / "od.toml"
    config.write_text('domian = "typo.example"\n')
    with pytest.raises(ValidationError, match="domian"):
        Settings.from_env({}, config_file=config)


def test_licence_settings_from_toml_feed_the_policy(tmp_path):
    config = tmp_path / "od.toml"
    config.write_text(
        'default_license = "CC-BY-SA-4.0"\n'
        '[license_refs."LicenseRef-Makerspace-1.0"]\n'
        'title = "Makerspace Licence 1.0"\n'
        'url = "https://makerspace.example/licence"\n'
    )
    settings = Settings.from_env({"OURDESIGN_MAX_FILE_BYTES": "1000"}, config_file=config)
    policy = LicencePolicy(settings.default_license, settings.license_refs)
    assert settings.max_file_bytes == 1000
    assert policy.terms(None, default_if_missing=True).summary() == "CC-BY-SA-4.0"
    ref = policy.terms("LicenseRef-Makerspace-1.0")
    assert policy.license_urls(ref) == ["https://makerspace.example/licence"]
    with pytest.raises(LicenceError, match="LicenseRef-Other"):
        policy.terms("LicenseRef-Other")
