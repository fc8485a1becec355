"""ChatClient against a real OpenAI-compatible HTTP server (tests/openai_server.py)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from rag.llm import ChatClient, LLMConfig, LLMError
from tests.openai_server import FakeOpenAIServer

REPLY = "Tea grows best on misty hillsides [1]. 茶樹喜歡霧。"
MESSAGES = [
    {"role": "system", "content": "Answer from the passages only."},
    {"role": "user", "content": "Where does tea grow?"},
]


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer(reply=REPLY) as fake:
        yield fake


def client_for(server: FakeOpenAIServer, api_key: str = "", timeout: float = 5.0) -> ChatClient:
    config = LLMConfig(server.base_url, "fake-model", api_key=api_key, timeout=timeout)
    return ChatClient(config)


def test_stream_yields_pieces_that_join_to_the_reply(server: FakeOpenAIServer) -> None:
    pieces = list(client_for(server).stream(MESSAGES))
    assert len(pieces) > 3
    assert all(pieces)
    assert "".join(pieces) == REPLY


def test_request_carries_model_messages_and_stream_flag(server: FakeOpenAIServer) -> None:
    list(client_for(server).stream(MESSAGES, temperature=0.2))
    [body] = server.requests
    assert body["messages"] == MESSAGES
    assert body["model"] == "fake-model"
    assert body["stream"] is True
    assert body["temperature"] == 0.2
    assert "max_tokens" not in body  # the server's default unless asked


def test_reply_length_is_bounded_when_asked(server: FakeOpenAIServer) -> None:
    list(client_for(server).stream(MESSAGES, max_tokens=50))
    assert server.requests[-1]["max_tokens"] == 50


def test_trailing_slash_in_base_url_is_tolerated(server: FakeOpenAIServer) -> None:
    config = LLMConfig(base_url=server.base_url + "/", model="m")
    assert "".join(ChatClient(config).stream(MESSAGES)) == REPLY


def test_api_key_header_sent_only_when_set(server: FakeOpenAIServer) -> None:
    list(client_for(server, api_key="sk-secret").stream(MESSAGES))
    list(client_for(server).stream(MESSAGES))
    assert server.headers[0]["authorization"] == "Bearer sk-secret"
    assert "authorization" not in server.headers[1]


def test_json_response_is_yielded_once(server: FakeOpenAIServer) -> None:
    server.mode = "json"
    assert list(client_for(server).stream(MESSAGES)) == [REPLY]


def test_timeout_raises_llm_error(server: FakeOpenAIServer) -> None:
    server.delay = 2
    started = time.monotonic()
    with pytest.raises(LLMError, match=r"timed out after 0\.5 s"):
        list(client_for(server, timeout=0.5).stream(MESSAGES))
    assert time.monotonic() - started < 1.5


def test_connection_refused_raises_llm_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = LLMConfig(base_url=f"http://127.0.0.1:{port}/v1", model="m", timeout=2)
    with pytest.raises(LLMError, match="could not connect") as info:
        list(ChatClient(config).stream(MESSAGES))
    assert str(port) in str(info.value)


def test_http_error_status_raises_llm_error(server: FakeOpenAIServer) -> None:
    server.status = 500
    with pytest.raises(LLMError, match="HTTP 500") as info:
        list(client_for(server).stream(MESSAGES))
    assert "fake error 500" in str(info.value)


def test_garbage_response_raises_llm_error(server: FakeOpenAIServer) -> None:
    server.mode = "garbage"
    with pytest.raises(LLMError, match="not an OpenAI chat completion"):
        list(client_for(server).stream(MESSAGES))


def test_abandoning_a_stream_midway_is_clean(server: FakeOpenAIServer) -> None:
    server.reply = "x" * 4000
    server.chunk_size = 1
    stream = client_for(server).stream(MESSAGES)
    assert next(stream) == "x"
    stream.close()
    assert "".join(client_for(server).stream(MESSAGES)) == "x" * 4000


def test_from_env_without_variables_is_none() -> None:
    assert LLMConfig.from_env({}) is None
    assert LLMConfig.from_env({"RAG_LLM_BASE_URL": "http://h/v1"}) is None
    assert LLMConfig.from_env({"RAG_LLM_MODEL": "m"}) is None


def test_from_env_reads_variables() -> None:
    env = {
        "RAG_LLM_BASE_URL": "http://127.0.0.1:11434/v1/",
        "RAG_LLM_MODEL": "qwen2.5:7b",
        "RAG_LLM_API_KEY": "sk-1",
        "RAG_LLM_TIMEOUT": "12.5",
    }
    config = LLMConfig.from_env(env)
    assert config == LLMConfig("http://127.0.0.1:11434/v1", "qwen2.5:7b", "sk-1", 12.5)
    assert config.chat_url == "http://127.0.0.1:11434/v1/chat/completions"
    defaults = LLMConfig.from_env({"RAG_LLM_BASE_URL": "http://h/v1", "RAG_LLM_MODEL": "m"})
    assert defaults == LLMConfig("http://h/v1", "m", "", 30.0)


def test_from_env_rejects_a_bad_timeout() -> None:
    env = {"RAG_LLM_BASE_URL": "http://h/v1", "RAG_LLM_MODEL": "m", "RAG_LLM_TIMEOUT": "soon"}
    with pytest.raises(LLMError, match="RAG_LLM_TIMEOUT"):
        LLMConfig.from_env(env)
