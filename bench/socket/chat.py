"""The answer time of a request that reads an uploaded file, against a plain ``files.retrieve``:
one ``mockfiles serve`` process, one keep-alive httpx client, the calls probed in turn (so that the
machine's load weighs on all alike), median and 90th percentile of each.

python -m bench.socket.chat [--probes 400] [--quick]

The files are read once (their summary is kept with the stored file): the probes time the answer,
not the first reading, which ``first read`` times on a fresh file each probe.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable

import httpx

from bench.tools.servers import AUTH, mockfiles_server

SMALL = b"Quarterly report\n" + b"Revenue grew and costs fell. " * 30 + b"\n"  # about 1 KiB
LARGE = (b"lorem ipsum dolor sit amet " * 40 + b"\n") * 1000  # about 1 MiB


def probes(base: str, count: int) -> dict[str, list[float]]:
    with httpx.Client(base_url=base, headers=AUTH, timeout=60) as http:

        def upload(name: str, content: bytes, purpose: str = "user_data", prefix: str = "/v1") -> str:
            answer = http.post(prefix + "/files", files={"file": (name, content)}, data={"purpose": purpose})
            answer.raise_for_status()
            return str(answer.json()["id"])

        small, large = upload("report.txt", SMALL), upload("big.txt", LARGE)

        def chat(file_id: str, stream: bool = False) -> Callable[[], None]:
            content = [{"type": "file", "file": {"file_id": file_id}}, {"type": "text", "text": "What is the total?"}]
            messages = [{"role": "user", "content": content}]
            body = json.dumps({"model": "gpt-4o-mini", "messages": messages, "stream": stream})

            def call() -> None:
                answer = http.post("/v1/chat/completions", content=body, headers={"content-type": "application/json"})
                assert answer.status_code == 200, answer.text

            return call

        def response() -> None:
            content = [{"type": "input_file", "file_id": small}, {"type": "input_text", "text": "Sum?"}]
            body = {"model": "gpt-4o-mini", "input": [{"role": "user", "content": content}]}
            answer = http.post("/v1/responses", json=body)
            assert answer.status_code == 200, answer.text

        def retrieve() -> None:
            assert http.get(f"/v1/files/{small}").status_code == 200

        def no_file() -> None:
            body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "What is the total?"}]}
            assert http.post("/v1/chat/completions", json=body).status_code == 200

        def first_read() -> None:  # a fresh 1 MiB file each time: the upload is not timed, the reading is
            fresh = upload("fresh.txt", LARGE)
            started = time.perf_counter()
            chat(fresh)()
            timings["chat, a 1 MiB file read for the first time"].append(time.perf_counter() - started)

        calls: dict[str, Callable[[], None]] = {
            "files.retrieve": retrieve,
            "chat, no file": no_file,
            "chat, a 1 KiB file": chat(small),
            "chat, a 1 KiB file, streamed": chat(small, stream=True),
            "responses, a 1 KiB input_file": response,
            "chat, a 1 MiB file (read before)": chat(large),
        }
        timings: dict[str, list[float]] = {name: [] for name in calls}
        timings["chat, a 1 MiB file read for the first time"] = []
        for call in calls.values():  # warm up: the files' summaries, the connection
            call()
        for i in range(count):
            for name, call in calls.items():
                started = time.perf_counter()
                call()
                timings[name].append(time.perf_counter() - started)
            if i % 20 == 0:
                first_read()
        return timings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--probes", type=int, default=400)
    parser.add_argument("--quick", action="store_true", help="a few probes: checks that it runs")
    args = parser.parse_args(argv)
    count = 20 if args.quick else args.probes
    with mockfiles_server() as server:
        timings = probes(server.url, count)
    base = statistics.median(timings["files.retrieve"])
    print(f"{'call':48} {'median':>9} {'p90':>9} {'x retrieve':>10}")
    for name, values in timings.items():
        ordered = sorted(values)
        median, p90 = statistics.median(ordered), ordered[int(len(ordered) * 0.9) - 1 if len(ordered) > 1 else 0]
        print(f"{name:48} {median * 1000:8.3f}ms {p90 * 1000:8.3f}ms {median / base:10.2f}")


if __name__ == "__main__":
    main()
