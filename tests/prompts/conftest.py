"""Fixtures of the prompts tests: a real HTTP server on 127.0.0.1 playing an LLM API (see prompts_helpers)."""

import pytest
from prompts_helpers import LLMServer


@pytest.fixture
def llm_server():
    server = LLMServer()
    yield server
    server.close()
