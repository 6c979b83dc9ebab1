"""bench_hub's load generator: light cabins or doctor consoles, all in this one process.

    python bench/hub_load.py cabins|doctors PLAN.json OUT.json

A light cabin speaks hub/shared/wire.py as a cabin daemon does, without media or
touchscreen: hello → welcome, a heartbeat every ``heartbeat_s`` (from a random phase),
a status outbox item now and then (acknowledged by ``ack``), a patient arriving and
leaving (``waiting_patient``), and an answer (``to_doctor`` chat) to each ``from_doctor``
chat. A doctor console is /doctor/ws with its session cookie: the queue, ``take`` of its
consultation's patient, then a chat message every ``chat_every_s``.

Frames are written as JSON by hand (the hub validates them: its ``error`` answers are
counted); every timestamp is ``time.time()``, the machine's clock, which the hub and
both generators share. Commands come on stdin, one a line, each answered on stdout:
``connect`` → ``connected``, ``consult`` → ``consulted``, ``go`` → ``going``,
``stop`` → ``stopped``, ``report`` → ``reported`` (the figures written to OUT.json)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

CONNECT_CONCURRENCY = 50  # sockets opened at once (the hub's accept backlog is 128)
CONNECT_TIMEOUT_S = 60.0  # one socket's upgrade and first frames on a loaded hub
CONSULT_TIMEOUT_S = 30.0  # a consultation doctor sees their patient and takes them
LAG_EVERY_S = 0.05  # the event loop's lag is sampled this often


def iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat()


def epoch(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


class Worker:
    def __init__(self, plan: dict[str, Any]) -> None:
        self.plan = plan
        self.url: str = plan["url"]
        self.rng = random.Random(plan["seed"])
        self.http: aiohttp.ClientSession | None = None
        self.stopping = False  # the bench is ending: a closing socket is not a drop
        self.loading = False
        self.tasks: list[asyncio.Task[Any]] = []
        self.load_tasks: list[asyncio.Task[Any]] = []
        self.connected = 0
        self.dropped = 0
        self.errors = 0
        self.error_samples: list[str] = []
        self.lag: list[float] = []

    def error(self, text: str) -> None:
        self.errors += 1
        if len(self.error_samples) < 5:
            self.error_samples.append(text[:300])

    async def session(self) -> aiohttp.ClientSession:
        if self.http is None:
            # limit=0: a WebSocket holds its connection for its whole life.
            self.http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        return self.http

    async def watch_lag(self) -> None:
        while True:
            t = time.monotonic()
            await asyncio.sleep(LAG_EVERY_S)
            if self.loading:
                self.lag.append(time.monotonic() - t - LAG_EVERY_S)

    async def connect_all(self, connect: Any, items: list[Any]) -> float:
        sem = asyncio.Semaphore(CONNECT_CONCURRENCY)
        t0 = time.monotonic()

        async def one(item: Any) -> None:
            async with sem:
                try:
                    async with asyncio.timeout(CONNECT_TIMEOUT_S):
                        await connect(item)
                    self.connected += 1
                except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
                    self.error(f"connect: {exc!r}")

        await asyncio.gather(*(one(i) for i in items))
        return time.monotonic() - t0

    def spawn_load(self, coro: Any) -> None:
        self.load_tasks.append(asyncio.create_task(coro))

    async def stop_load(self) -> None:
        self.loading = False
        for task in self.load_tasks:
            task.cancel()
        await asyncio.gather(*self.load_tasks, return_exceptions=True)
        self.load_tasks.clear()

    async def close(self) -> None:
        self.stopping = True
        await self.stop_load()
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        if self.http is not None:
            await self.http.close()

    def figures(self) -> dict[str, Any]:
        return {
            "connected": self.connected,
            "dropped": self.dropped,
            "errors": self.errors,
            "error_samples": self.error_samples,
            "lag": self.lag,
        }


# ---- cabins ----
class Cabin:
    def __init__(self, fleet: Cabins, spec: dict[str, Any]) -> None:
        self.fleet = fleet
        self.id: str = spec["id"]
        self.site: str = spec["site"]
        self.credential: str = spec["credential"]
        self.consult: bool = spec["consult"]
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.seq = 0
        self.sessions = 0
        self.pending: dict[int, float] = {}  # outbox seq → sent at

    async def connect(self) -> None:
        http = await self.fleet.session()
        self.ws = ws = await http.ws_connect(
            self.fleet.url + "/cabin/ws",
            headers={"Authorization": f"Bearer {self.id}:{self.credential}"},
        )
        await self.send(
            {
                "type": "hello",
                "protocol": 1,
                "cabin_id": self.id,
                "software_version": "bench",
                "outbox_epoch": f"bench-{self.id}",
                "appointments_cursor": 0,
            }
        )
        welcome = json.loads(await ws.receive_str())
        if welcome.get("type") != "welcome":
            raise ValueError(f"{self.id}: expected welcome, got {welcome}")
        self.seq = int(welcome["acked_seq"])
        self.fleet.tasks.append(asyncio.create_task(self.read()))
        self.fleet.tasks.append(asyncio.create_task(self.heartbeat(float(welcome["heartbeat_s"]))))

    async def send(self, frame: dict[str, Any]) -> None:
        assert self.ws is not None
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self.ws.send_str(json.dumps(frame))

    async def read(self) -> None:
        assert self.ws is not None
        fleet = self.fleet
        async for msg in self.ws:
            if msg.type is not aiohttp.WSMsgType.TEXT:
                continue
            now = time.time()
            frame = json.loads(msg.data)
            kind = frame.get("type")
            if kind == "heartbeat_ack":
                fleet.heartbeat_acks += 1
                if fleet.loading:
                    fleet.heartbeat_rtt.append(now - epoch(frame["sent_at"]))
            elif kind == "ack":
                sent = self.pending.pop(int(frame["seq"]), None)
                if sent is not None and fleet.loading:
                    fleet.outbox_rtt.append(now - sent)
            elif kind == "from_doctor":
                await self.from_doctor(frame, now)
            elif kind == "error":
                fleet.error(f"{self.id}: {frame.get('message')}")
        if not fleet.stopping:
            fleet.dropped += 1
            fleet.error(f"{self.id}: socket closed ({self.ws.close_code})")

    async def from_doctor(self, frame: dict[str, Any], now: float) -> None:
        message = frame["message"]
        if message.get("type") != "chat":
            return
        sent = float(message["text"].split()[1])
        self.fleet.relay_d2c.append(now - sent)
        answer = {
            "type": "chat",
            "sender": "patient",
            "text": f"{message['text']} {time.time():.6f}",
            "at": iso(time.time()),
        }
        await self.send(
            {"type": "to_doctor", "consultation_id": frame["consultation_id"], "message": answer}
        )

    async def heartbeat(self, period_s: float) -> None:
        await asyncio.sleep(self.fleet.rng.uniform(0, period_s))
        while True:
            await self.send({"type": "heartbeat", "sent_at": iso(time.time())})
            await asyncio.sleep(period_s)

    async def status_loop(self, every_s: float) -> None:
        rng = self.fleet.rng
        await asyncio.sleep(rng.uniform(0, every_s))
        while True:
            await self.status()
            await asyncio.sleep(every_s * rng.uniform(0.5, 1.5))

    async def status(self) -> None:
        now = time.time()
        self.seq += 1
        payload = {
            "state": "idle",
            "locked": False,
            "since": iso(now),
            "session_active": False,
            "instruments": [
                {"name": "tensiometre", "kind": "blood_pressure", "state": "ready"},
                {"name": "oxymetre", "kind": "pulse_oximeter", "state": "ready"},
            ],
            "printer": {"state": "ok"},
            "software_version": "bench",
        }
        self.pending[self.seq] = now
        await self.send(
            {
                "type": "outbox",
                "seq": self.seq,
                "key": f"{self.id}-status-{self.seq}",
                "kind": "status",
                "created_at": iso(now),
                "payload": payload,
            }
        )

    async def waiting(self, session_id: str | None) -> None:
        now = time.time()
        patient = None
        if session_id is not None:
            patient = {
                "given_name": "Patient",
                "age": 70,
                "reason": "renouvellement",
                "walk_in": True,
                "waiting_since": iso(now),
            }
        await self.send({"type": "waiting_patient", "session_id": session_id, "patient": patient})

    async def patient_loop(self, every_s: float) -> None:
        """A patient arrives, waits about half the period, leaves; again."""
        rng, log = self.fleet.rng, self.fleet.changes
        await asyncio.sleep(rng.uniform(0, every_s))
        while True:
            self.sessions += 1
            session_id = f"{self.id}-{self.sessions}"
            log.append([self.id, self.site, session_id, "arrive", time.time()])
            await self.waiting(session_id)
            await asyncio.sleep(every_s / 2 * rng.uniform(0.5, 1.5))
            log.append([self.id, self.site, session_id, "leave", time.time()])
            await self.waiting(None)
            await asyncio.sleep(every_s / 2 * rng.uniform(0.5, 1.5))


class Cabins(Worker):
    def __init__(self, plan: dict[str, Any]) -> None:
        super().__init__(plan)
        self.cabins = [Cabin(self, spec) for spec in plan["cabins"]]
        self.heartbeat_acks = 0
        self.heartbeat_rtt: list[float] = []
        self.outbox_rtt: list[float] = []
        self.relay_d2c: list[float] = []
        self.changes: list[list[Any]] = []  # [cabin, site, session, arrive|leave, sent at]

    async def command(self, cmd: str) -> str:
        if cmd == "connect":
            took = await self.connect_all(Cabin.connect, self.cabins)
            return f"connected {json.dumps({'n': self.connected, 'seconds': took})}"
        if cmd == "consult":  # the consultations' patients wait for their doctor
            for cabin in self.cabins:
                if cabin.consult:
                    await cabin.waiting(f"{cabin.id}-consult")
            return "consulted"
        if cmd == "go":
            self.loading = True
            load = self.plan["load"]
            for cabin in self.cabins:
                self.spawn_load(cabin.status_loop(load["status_every_s"]))
                if not cabin.consult:
                    self.spawn_load(cabin.patient_loop(load["patient_every_s"]))
            return "going"
        if cmd == "stop":
            await self.stop_load()
            return "stopped"
        raise ValueError(cmd)

    def figures(self) -> dict[str, Any]:
        return {
            **super().figures(),
            "heartbeat_acks": self.heartbeat_acks,
            "heartbeat_rtt": self.heartbeat_rtt,
            "outbox_rtt": self.outbox_rtt,
            "outbox_unacked": sum(len(c.pending) for c in self.cabins),
            "relay_d2c": self.relay_d2c,
            "changes": self.changes,
        }


# ---- doctors ----
class Doctor:
    def __init__(self, fleet: Doctors, spec: dict[str, Any]) -> None:
        self.fleet = fleet
        self.index: int = spec["index"]
        self.token: str = spec["token"]
        self.cabin: str | None = spec["cabin"]
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.queue: dict[str, str] = {}  # cabin → session waiting, as the console shows
        self.changed = asyncio.Event()
        self.consultation: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.chats = 0

    async def connect(self) -> None:
        http = await self.fleet.session()
        self.ws = ws = await http.ws_connect(
            self.fleet.url + "/doctor/ws",
            headers={"Origin": self.fleet.url, "Cookie": f"kiosk_hub={self.token}"},
        )
        while True:  # hello, then the queue
            first = json.loads(await ws.receive_str())
            if first.get("type") == "queue":
                self.queue = {e["cabin_id"]: e["session_id"] for e in first["entries"]}
                break
            if first.get("type") == "error":
                raise ValueError(f"doctor {self.index}: {first}")
        self.fleet.tasks.append(asyncio.create_task(self.read()))

    async def send(self, message: dict[str, Any]) -> None:
        assert self.ws is not None
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self.ws.send_str(json.dumps(message))

    async def read(self) -> None:
        assert self.ws is not None
        fleet = self.fleet
        async for msg in self.ws:
            if msg.type is not aiohttp.WSMsgType.TEXT:
                continue
            now = time.time()
            message = json.loads(msg.data)
            kind = message.get("type")
            if kind == "queue_entry":
                entry = message["entry"]
                self.queue[entry["cabin_id"]] = entry["session_id"]
                fleet.receipts.append(
                    [entry["cabin_id"], entry["session_id"], "arrive", self.index, now]
                )
                self.changed.set()
            elif kind == "queue_removed":
                session_id = self.queue.pop(message["cabin_id"], None)
                fleet.receipts.append([message["cabin_id"], session_id, "leave", self.index, now])
            elif kind == "chat" and message.get("sender") == "patient":
                fleet.relay_c2d.append(now - float(message["text"].split()[2]))
            elif kind == "consultation" and not self.consultation.done():
                self.consultation.set_result(message["id"])
            elif kind == "error":
                fleet.error(f"doctor {self.index}: {message.get('code')} {message.get('message')}")
        if not fleet.stopping:
            fleet.dropped += 1
            fleet.error(f"doctor {self.index}: socket closed ({self.ws.close_code})")

    async def take(self) -> None:
        assert self.cabin is not None
        async with asyncio.timeout(CONSULT_TIMEOUT_S):
            while self.cabin not in self.queue:
                self.changed.clear()
                await self.changed.wait()
            await self.send({"type": "take", "cabin_id": self.cabin,
                             "session_id": self.queue[self.cabin]})  # fmt: skip
            await self.consultation

    async def chat_loop(self, every_s: float) -> None:
        await asyncio.sleep(self.fleet.rng.uniform(0, every_s))
        while True:
            self.chats += 1
            self.fleet.chats_sent += 1
            text = f"{self.chats} {time.time():.6f}"
            await self.send({"type": "chat", "text": text, "id": f"c{self.chats}"})
            await asyncio.sleep(every_s)


class Doctors(Worker):
    def __init__(self, plan: dict[str, Any]) -> None:
        super().__init__(plan)
        self.doctors = [Doctor(self, spec) for spec in plan["doctors"]]
        self.receipts: list[list[Any]] = []  # [cabin, session, arrive|leave, doctor, at]
        self.relay_c2d: list[float] = []
        self.chats_sent = 0
        self.consultations = 0

    async def command(self, cmd: str) -> str:
        if cmd == "connect":
            took = await self.connect_all(Doctor.connect, self.doctors)
            return f"connected {json.dumps({'n': self.connected, 'seconds': took})}"
        if cmd == "consult":
            results = await asyncio.gather(
                *(d.take() for d in self.doctors if d.cabin and d.ws), return_exceptions=True
            )
            for r in results:
                if isinstance(r, BaseException):
                    self.error(f"take: {r!r}")
            self.consultations = sum(1 for r in results if not isinstance(r, BaseException))
            return f"consulted {self.consultations}"
        if cmd == "go":
            self.receipts.clear()
            self.loading = True
            for doctor in self.doctors:
                if doctor.consultation.done():
                    self.spawn_load(doctor.chat_loop(self.plan["load"]["chat_every_s"]))
            return "going"
        if cmd == "stop":
            await self.stop_load()
            return "stopped"
        raise ValueError(cmd)

    def figures(self) -> dict[str, Any]:
        return {
            **super().figures(),
            "receipts": self.receipts,
            "relay_c2d": self.relay_c2d,
            "chats_sent": self.chats_sent,
            "consultations": self.consultations,
        }


async def serve(role: str, plan: dict[str, Any], out: Path) -> None:
    worker: Cabins | Doctors = Cabins(plan) if role == "cabins" else Doctors(plan)
    lag = asyncio.create_task(worker.watch_lag())
    loop = asyncio.get_running_loop()
    stdin = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    try:
        while line := (await stdin.readline()).decode().strip():
            if line == "report":
                worker.stopping = True
                out.write_text(json.dumps(worker.figures()))  # noqa: ASYNC240 - the end
                print("reported", flush=True)
                break
            print(await worker.command(line), flush=True)
    finally:
        lag.cancel()
        await worker.close()


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1], json.loads(Path(sys.argv[2]).read_text()), Path(sys.argv[3])))
