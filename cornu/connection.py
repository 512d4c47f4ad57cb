"""Where the SDK's models train: `cornu.connect(url, api_key)`, or the environment
(`CORNU_URL`, `CORNU_API_KEY`, the key file `cornu up` writes)."""

from __future__ import annotations

from cornu.client import Client

_client: Client | None = None


def connect(url: str | None = None, api_key: str | None = None) -> Client:
    """Make a Client the SDK's models use from now on, and return it."""
    global _client
    if _client is not None:
        _client.close()
    _client = Client(url, api_key)
    return _client


def client() -> Client:
    """The connected Client (connecting from the environment the first time)."""
    global _client
    if _client is None:
        _client = Client()
    return _client
