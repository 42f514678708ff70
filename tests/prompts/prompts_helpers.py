"""A real HTTP server on 127.0.0.1 that plays an LLM API (OpenAI chat completions or Gemini generateContent),
answering each request with whatever the test scripts: text, HTTP errors, malformed JSON, slow answers."""

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ESC50_LABELS = [
    "dog", "rooster", "pig", "cow", "frog", "cat", "hen", "insects", "sheep", "crow", "rain", "sea_waves",
    "crackling_fire", "crickets", "chirping_birds", "water_drops", "wind", "pouring_water", "toilet_flush",
    "thunderstorm", "crying_baby", "sneezing", "clapping", "breathing", "coughing", "footsteps", "laughing",
    "brushing_teeth", "snoring", "drinking_sipping", "door_wood_knock", "mouse_click", "keyboard_typing",
    "door_wood_creaks", "can_opening", "washing_machine", "vacuum_cleaner", "clock_alarm", "clock_tick",
    "glass_breaking", "helicopter", "chainsaw", "siren", "car_horn", "engine", "train", "church_bells", "airplane",
    "fireworks", "hand_saw",
]  # meta/esc50.csv 'category', as the dataset spells them
# The study's published descriptor lists, read where the project keeps its reference material (../shared).
PAPER_DESCRIPTORS = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "paper-descriptors"


def paper_file(name: str) -> Path:
    path = PAPER_DESCRIPTORS / f"{name}.json"
    if not path.is_file():
        pytest.skip(f"{path} not present (the study's descriptor lists live in ../shared/reference)")
    return path


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict = field(default_factory=dict)
    delay_s: float = 0.0


def chat_reply(text: str, finish_reason: str = "stop") -> Reply:
    """An OpenAI chat.completion answering `text`."""
    body = {"id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": "test-model",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                         "finish_reason": finish_reason}]}
    return Reply(200, json.dumps(body).encode())


def gemini_reply(text: str) -> Reply:
    body = {"candidates": [{"content": {"parts": [{"text": text}], "role": "model"}, "finishReason": "STOP"}]}
    return Reply(200, json.dumps(body).encode())


def error_reply(status: int, message: str = "error", headers: dict | None = None) -> Reply:
    return Reply(status, json.dumps({"error": {"message": message, "code": status}}).encode(), headers or {})


def numbered(items: list[str]) -> str:
    return "\n".join(f"{i}. {item}" for i, item in enumerate(items, start=1))


class LLMServer:
    """`handler(request) -> Reply` answers each request; `requests` records (path, headers, JSON body)."""

    def __init__(self):
        self.handler: Callable[[dict], Reply] = lambda request: chat_reply("")
        self.requests: list[dict] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("content-length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                request = {"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "json": body}
                server.requests.append(request)
                reply = server.handler(request)
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                try:
                    self.send_response(reply.status)
                    self.send_header("content-type", "application/json")
                    for key, value in reply.headers.items():
                        self.send_header(key, value)
                    self.send_header("content-length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout)

            def log_message(self, *args):
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_port
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()

    def script(self, *replies: Reply) -> None:
        """Answer the next requests with `replies` in order, the last one for every request after them."""
        queue = list(replies)

        def next_reply(request):
            return queue.pop(0) if len(queue) > 1 else queue[0]

        self.handler = next_reply

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def last_user_text(request: dict) -> str:
    return [m["content"] for m in request["json"]["messages"] if m["role"] == "user"][-1]


def system_text(request: dict) -> str:
    return request["json"]["messages"][0]["content"]


# ---------------------------------------------------------------- the safety sweep over written files

SWEPT = (".json", ".jsonl", ".csv", ".md", ".html")  # prompt files, descriptor caches, manifests and the report


class _PageText(HTMLParser):
    """Every text of a page a reader can see or hover: element text and attribute values (titles, alt texts)."""

    def __init__(self):
        super().__init__()
        self.texts: list[str] = []

    def handle_data(self, data):
        self.texts.append(data)

    def handle_starttag(self, tag, attrs):
        self.texts += [value for _, value in attrs if value]


def _json_strings(value) -> list[str]:
    if isinstance(value, dict):
        return [text for key, item in value.items() for text in [key, *_json_strings(item)]]
    if isinstance(value, list):
        return [text for item in value for text in _json_strings(item)]
    return [value] if isinstance(value, str) else []


def written_texts(path: Path) -> list[str]:
    """The texts of a written file as a reader meets them: every string of a JSON document or JSONL line (keys
    too), every line of a CSV or Markdown file, the text and attribute values of an HTML page."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        return _json_strings(json.loads(text))
    if path.suffix == ".jsonl":
        return [item for line in text.splitlines() if line.strip() for item in _json_strings(json.loads(line))]
    if path.suffix == ".html":
        page = _PageText()
        page.feed(text)
        return page.texts
    return text.splitlines()


def swept_files(folder: Path) -> list[Path]:
    return sorted(path for path in Path(folder).rglob("*") if path.is_file() and path.suffix in SWEPT)


def flagged_texts(folder: Path) -> list[str]:
    """'FILE: TEXT' for every text of every prompt file, descriptor cache, manifest and report file under `folder`
    that the safety filter flags; empty when none."""
    from synthaudio.prompts.safety import is_offensive

    return [f"{path.relative_to(folder)}: {text}" for path in swept_files(folder) for text in written_texts(path)
            if is_offensive(text)]


def answering_server(answer: str):
    """An LLMServer that gives every chat request the same `answer` (a pytest fixture body: yields, then closes)."""
    server = LLMServer()
    server.script(chat_reply(answer))
    yield server
    server.close()
