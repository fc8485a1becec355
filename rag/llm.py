"""A small client for OpenAI-compatible chat endpoints (OpenAI, Ollama, vLLM, llama.cpp).

Only transport lives here: the caller builds the messages, :class:`ChatClient` sends
them to ``POST {base_url}/chat/completions`` and yields the reply text as it streams in.
Every failure (timeout, refused connection, HTTP error, malformed reply) surfaces as
:class:`LLMError` with a message that can be shown to a user as is.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

logger = logging.getLogger(__name__)

_NOT_A_COMPLETION = "LLM endpoint sent a response that is not an OpenAI chat completion"


class LLMError(Exception):
    """The LLM could not produce an answer; ``str(error)`` is a user-readable reason."""


@dataclass(frozen=True)
class LLMConfig:
    """Where and how to reach the chat endpoint; ``base_url`` ends before ``/chat/completions``."""

    base_url: str
    model: str
    api_key: str = ""
    timeout: float = 30.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> LLMConfig | None:
        """Read ``RAG_LLM_*`` variables; None when the base URL or the model is unset.

        A ``RAG_LLM_TIMEOUT`` that is not a positive number raises :class:`LLMError`.
        """
        env = os.environ if env is None else env
        base_url = env.get("RAG_LLM_BASE_URL", "").strip()
        model = env.get("RAG_LLM_MODEL", "").strip()
        if not base_url or not model:
            return None
        raw_timeout = env.get("RAG_LLM_TIMEOUT", "").strip()
        try:
            timeout = float(raw_timeout) if raw_timeout else 30.0
        except ValueError:
            timeout = 0.0
        if not timeout > 0:
            raise LLMError(
                f"RAG_LLM_TIMEOUT must be a positive number of seconds, not {raw_timeout!r}"
            )
        api_key = env.get("RAG_LLM_API_KEY", "").strip()
        return cls(base_url=base_url.rstrip("/"), model=model, api_key=api_key, timeout=timeout)

    @property
    def chat_url(self) -> str:
        """The full URL that chat requests are POSTed to."""
        return self.base_url.rstrip("/") + "/chat/completions"


class ChatClient:
    """Sends chat requests to one OpenAI-compatible endpoint; no retries."""

    def __init__(self, config: LLMConfig) -> None:
        """Remember ``config``; no connection is made until :meth:`stream` is iterated."""
        self.config = config

    def stream(
        self,
        messages: list[dict[str, str]],
        *,
        temperature: float = 0.0,
        max_tokens: int | None = None,
    ) -> Iterator[str]:
        """Yield the reply text in pieces as the server streams it; raise LLMError on
        failure. ``max_tokens`` bounds the reply's length (None: the server's default)."""
        url = self.config.chat_url
        payload: dict[str, Any] = {
            "model": self.config.model,
            "messages": messages,
            "temperature": temperature,
            "stream": True,
        }
        if max_tokens is not None:
            payload["max_tokens"] = max_tokens
        headers = {"Accept": "text/event-stream, application/json"}
        if self.config.api_key:
            headers["Authorization"] = f"Bearer {self.config.api_key}"
        timeout = httpx.Timeout(self.config.timeout)  # connect, and read between chunks
        logger.debug("POST %s (model %s, %d messages)", url, self.config.model, len(messages))
        try:
            with (
                httpx.Client(timeout=timeout) as client,
                client.stream("POST", url, json=payload, headers=headers) as response,
            ):
                if not response.is_success:
                    body = response.read().decode("utf-8", errors="replace").strip()
                    raise LLMError(
                        f"LLM endpoint returned HTTP {response.status_code}: {body[:200]}"
                    )
                if "text/event-stream" in response.headers.get("content-type", ""):
                    yield from _iter_sse_content(response.iter_lines())
                else:  # server ignored "stream": one JSON body
                    content = _message_content(response.read())
                    if content:
                        yield content
        except httpx.TimeoutException as exc:
            logger.warning("LLM request to %s timed out: %r", url, exc)
            raise LLMError(f"LLM endpoint {url} timed out after {self.config.timeout:g} s") from exc
        except httpx.ConnectError as exc:
            logger.warning("LLM connection to %s failed: %r", url, exc)
            raise LLMError(f"could not connect to {url}: is the server running?") from exc
        except httpx.HTTPError as exc:
            logger.warning("LLM request to %s failed: %r", url, exc)
            raise LLMError(f"request to LLM endpoint {url} failed: {exc}") from exc


def _iter_sse_content(lines: Iterable[str]) -> Iterator[str]:
    """Yield ``choices[0].delta.content`` from server-sent ``data:`` lines until ``[DONE]``."""
    for line in lines:
        if not line.startswith("data:"):
            continue  # blank separators, ": comments", "event:" and "id:" fields
        data = line[len("data:") :].strip()
        if data == "[DONE]":
            return
        chunk = _load_object(data)
        choices = chunk.get("choices")
        if not isinstance(choices, list):
            raise LLMError(_NOT_A_COMPLETION)
        if not choices:
            continue  # e.g. a trailing usage-only chunk
        delta = choices[0].get("delta") if isinstance(choices[0], dict) else None
        if not isinstance(delta, dict):
            raise LLMError(_NOT_A_COMPLETION)
        content = delta.get("content")
        if isinstance(content, str) and content:
            yield content
    logger.debug("LLM stream ended without [DONE]")


def _message_content(body: bytes | str) -> str:
    """Return ``choices[0].message.content`` of a complete (non-streamed) chat completion."""
    completion = _load_object(body)
    try:
        content = completion["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError) as exc:
        raise LLMError(_NOT_A_COMPLETION) from exc
    if content is not None and not isinstance(content, str):
        raise LLMError(_NOT_A_COMPLETION)
    return content or ""


def _load_object(text: bytes | str) -> dict[str, Any]:
    """Parse a JSON object, turning bad JSON or an in-band ``{"error": ...}`` into LLMError."""
    try:
        value = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise LLMError(_NOT_A_COMPLETION) from exc
    if not isinstance(value, dict):
        raise LLMError(_NOT_A_COMPLETION)
    if "error" in value and "choices" not in value:
        error = value["error"]
        message = error.get("message", error) if isinstance(error, dict) else error
        raise LLMError(f"LLM endpoint reported an error: {str(message)[:200]}")
    return value
