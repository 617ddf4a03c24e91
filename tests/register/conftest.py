"""The register under test: the scenario's assembly (tests/register/scenario.py) served by the real app."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.config import Config
from bot.register.app import make_app
from storage.register import RegisterReader
from storage.repository import Repository
from tests.conftest import Assembly
from tests.register.scenario import built


@dataclass
class Register:
    config: Config
    repository: Repository
    assembly: Assembly
    client: TestClient

    @property
    def reader(self) -> RegisterReader:
        return RegisterReader(self.repository.reading)

    async def get(self, path: str, status: int = 200, **kwargs) -> str:
        response = await self.client.get(path, **kwargs)
        body = await response.text()
        assert response.status == status, (path, response.status, body[:500])
        return body

    async def json(self, path: str) -> dict:
        response = await self.client.get(path)
        assert response.status == 200, (path, response.status)
        assert response.content_type == "application/json"
        return await response.json()


async def serve(folder: Path, **register: object) -> Register:
    folder.mkdir(exist_ok=True)
    config, repository, assembly = await built(folder, **register)
    client = TestClient(TestServer(make_app(config, repository)))
    await client.start_server()
    return Register(config, repository, assembly, client)


@pytest.fixture
async def register(tmp_path):
    served = await serve(tmp_path / "named")
    yield served
    await served.client.close()
    await served.repository.close()


@pytest.fixture
async def anonymous(tmp_path):
    """The same assembly with ``show_names: false`` and a public address."""
    served = await serve(tmp_path / "anonymous", show_names=False, public_url="https://register.example.org/lille")
    yield served
    await served.client.close()
    await served.repository.close()


@pytest.fixture
async def published(tmp_path):
    """The same assembly with a public address (the links of the web and of an export are then the same)."""
    served = await serve(tmp_path / "published", public_url="https://register.example.org")
    yield served
    await served.client.close()
    await served.repository.close()
