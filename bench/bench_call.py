"""The call's media stack: our aiortc cabin against Chromium playing the cabin (baseline).

For each call size (640x480@30, 1280x720@30) and each cabin (aiortc, Chromium):
- join → first frame: from the doctor's "join" (the doctor's page asks for its camera and
  makes the offer) to the first decoded video frame, on the doctor's side and on the
  cabin's side;
- cabin CPU: CPU time (user + system) of the cabin's processes during CALL_S seconds of
  call, as % of one core; for Chromium, the whole process tree of the cabin's browser.

The doctor is always headless Debian Chromium with its fake camera (design.md flags). Both
cabins send the same picture: the cabin's test pattern (video/media_synthetic.py), LOOP_S
seconds of it repeated; Chromium reads it from a Y4M file written at start
(`--use-file-for-fake-video-capture`), the aiortc cabin draws it. The aiortc cabin is this
script in a subprocess (`--cabin-worker`) set up as the call component does
(video/stack.py: the cabin's codecs as configured by default, and again with the denoiser
on), the doctor's video rendered offscreen with the self-view (video/render.py), as on a
cabin. Signaling is minimal (one
offer, one answer, non-trickle ICE) and the same for both cabins: this measures the media
stack, not the console. A first, unmeasured getUserMedia warms up the doctor's browser.

Run: .venv/bin/python bench/bench_call.py [--seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import ClientSession, web

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.chromium import CHROMIUM  # noqa: E402 - after the path
from tests.chromium import CHROMIUM_FLAGS as BASE_FLAGS  # noqa: E402

PAGE = Path(__file__).with_name("bench_call_page.html")
CHROMIUM_FLAGS = [*BASE_FLAGS, "--autoplay-policy=no-user-gesture-required"]
SIZES = [(640, 480), (1280, 720)]
# aiortc: the cabin as configured by default; aiortc-denoise: with libvpx's temporal
# denoiser on (call.video_encoder.denoise, as Chromium's WebRTC has it on a desktop).
CABINS = ["aiortc", "aiortc-denoise", "chromium"]
FPS = 30
FIRST_FRAME_BOUND_S = 30.0
LOOP_S = 5  # the pattern both cabins send: this many seconds, then again
CLK_TCK = os.sysconf("SC_CLK_TCK")


# ---- CPU time of a process tree, from /proc ----
def _stat(pid: int) -> tuple[int, float] | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / CLK_TCK  # ppid, utime+stime


def tree_cpu_s(root: int) -> float:
    stats = {int(p): s for p in os.listdir("/proc") if p.isdigit() and (s := _stat(int(p)))}
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        if pid in stats:
            total += stats[pid][1]
        todo.extend(children.get(pid, []))
    return total


def thread_cpu_s(pid: int) -> dict[str, float]:
    """CPU seconds per thread name (threads of one name summed)."""
    out: dict[str, float] = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            comm = Path(f"/proc/{pid}/task/{tid}/comm").read_text().strip()
            fields = Path(f"/proc/{pid}/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        name = "main" if tid == str(pid) else f"{comm}-{tid}"
        out[name] = (int(fields[11]) + int(fields[12])) / CLK_TCK
    return out


def _descends_from_us(pid: int) -> bool:
    me = os.getpid()
    while pid > 1:
        stat = _stat(pid)
        if stat is None:
            return False
        pid = stat[0]
        if pid == me:
            return True
    return False


def chromium_browser_pids() -> set[int]:
    """Browser processes (not renderers, GPU...) started by this bench (through
    Playwright's driver): other jobs' browsers on a shared machine are left out."""
    pids = set()
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            cmd = Path(f"/proc/{p}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        browser = cmd[0].endswith(b"chromium") and not any(a.startswith(b"--type=") for a in cmd)
        if browser and _descends_from_us(int(p)):
            pids.add(int(p))
    return pids


def new_browser(before: set[int]) -> set[int]:
    """The browser processes started since `before`, without their children caught
    between fork and exec (still showing the browser's command line)."""
    new = chromium_browser_pids() - before
    return {pid for pid in new if (_stat(pid) or (0, 0.0))[0] not in new}


# ---- the aiortc cabin (subprocess) ----
def looped_pattern_class() -> Any:
    from av import VideoFrame

    from video.media_synthetic import TestPatternTrack

    class LoopedPattern(TestPatternTrack):
        """The cabin's test pattern, its first LOOP_S seconds over and over (the Y4M)."""

        def __init__(self, width: int, height: int) -> None:
            super().__init__(width, height, FPS)

        def render(self, index: int) -> VideoFrame:
            return super().render(index % (LOOP_S * FPS))

    return LoopedPattern


def write_pattern_y4m(width: int, height: int, path: Path) -> None:
    """The same LOOP_S seconds of pattern as a Y4M file, for Chromium's fake camera."""
    pattern = looped_pattern_class()(width, height)
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F{FPS}:1 Ip A1:1 C420jpeg\n".encode())
        for index in range(LOOP_S * FPS):
            out.write(b"FRAME\n")
            # Y, U, V planes back to back, visible pixels only: Y4M's 4:2:0 frame layout.
            out.write(pattern.render(index).to_ndarray(format="yuv420p").tobytes())


async def cabin_worker(port: int, width: int, height: int, denoise: bool) -> None:  # noqa: PLR0915
    import aioice.ice
    from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
    from aiortc.mediastreams import MediaStreamTrack

    from video import stack
    from video.config import CallSettings
    from video.media import CabinMedia
    from video.media_sdp import vp8_bitrate_hint
    from video.media_synthetic import BeepTrack
    from video.render import RemoteMediaSink

    LoopedPattern = looped_pattern_class()
    original = aioice.ice.get_host_addresses

    def with_loopback(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        return ["127.0.0.1", *original(use_ipv4=use_ipv4, use_ipv6=use_ipv6)]

    aioice.ice.get_host_addresses = with_loopback
    settings = CallSettings.model_validate(
        {
            "camera": {"width": width, "height": height, "fps": FPS},
            "video_encoder": {"denoise": denoise},
        }
    )
    await stack.set_up(settings)  # as the call component does at start
    state: dict[str, Any] = {"first_frame_at": None}
    pcs: list[RTCPeerConnection] = []
    sinks: list[RemoteMediaSink] = []
    medias: list[Any] = []

    async def offer(request: web.Request) -> web.Response:
        body = await request.json()
        media = CabinMedia(LoopedPattern(width, height), None, BeepTrack())
        sink = RemoteMediaSink(settings, headless=True, window_size=(width, height))
        sink.set_self_view(media.self_view())
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        medias.append(media)
        sinks.append(sink)
        pcs.append(pc)
        pc.addTrack(media.camera)
        pc.addTrack(media.audio)

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            sink.add_track(track)

        await pc.setRemoteDescription(RTCSessionDescription(body["sdp"], body["type"]))
        await pc.setLocalDescription(await pc.createAnswer())
        sdp = pc.localDescription.sdp
        if os.environ.get("BENCH_NO_HINT") != "1":
            sdp = vp8_bitrate_hint(sdp)  # see video/media_sdp.py
        return web.json_response({"sdp": sdp, "type": "answer"})

    async def stats(request: web.Request) -> web.Response:
        sink = sinks[-1] if sinks else None
        if sink is not None and sink.frames_received and state["first_frame_at"] is None:
            state["first_frame_at"] = time.time() * 1000
        return web.json_response(
            {
                "first_frame_at": state["first_frame_at"],
                "frames": sink.frames_received if sink else 0,
                "rendered": sink.frames_rendered if sink else 0,
                "window_cpu_s": sink.window.cpu_s if sink else 0.0,
            }
        )

    async def watch_first_frame() -> None:
        # Stamp the first decoded frame as it arrives, not when the bench next asks.
        while state["first_frame_at"] is None:
            if sinks and sinks[-1].frames_received:
                state["first_frame_at"] = time.time() * 1000
            await asyncio.sleep(0.002)

    app = web.Application()
    app.router.add_post("/offer", offer)
    app.router.add_get("/stats", stats)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    print("ready", flush=True)
    watcher = asyncio.create_task(watch_first_frame())
    try:
        await asyncio.Event().wait()
    finally:
        watcher.cancel()
        for pc in pcs:
            await pc.close()
        for sink in sinks:
            await sink.stop()
        for media in medias:
            await media.aclose()
        await runner.cleanup()


# ---- the bench ----
@dataclass
class Result:
    cabin: str
    size: tuple[int, int]
    doctor_first_ms: float
    cabin_first_ms: float
    cabin_cpu_pct: float
    doctor_fps: float
    doctor_got: tuple[int, int]
    cabin_fps: float
    doctor_kbps: float

    @classmethod
    def measured(
        cls,
        cabin: str,
        size: tuple[int, int],
        *,
        firsts_ms: tuple[float, float],
        cpu_s: float,
        doctor: tuple[dict[str, Any], dict[str, Any]],
        cabin_frames: int,
        elapsed: float,
    ) -> Result:
        """From the doctor's inbound() before/after, the CPU seconds and frames the cabin
        used and received while `elapsed` seconds of call went by."""
        d0, d1 = doctor
        return cls(
            cabin,
            size,
            firsts_ms[0],
            firsts_ms[1],
            100 * cpu_s / elapsed,
            (d1["frames"] - d0["frames"]) / elapsed,
            (d1["width"], d1["height"]),
            cabin_frames / elapsed,
            8 * (d1["bytes"] - d0["bytes"]) / elapsed / 1000,
        )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_for(page: Any, expr: str) -> Any:
    deadline = time.monotonic() + FIRST_FRAME_BOUND_S
    while time.monotonic() < deadline:
        value = await page.evaluate(expr)
        if value:
            return value
        await asyncio.sleep(0.005)
    raise TimeoutError(expr)


async def run_aiortc(doctor: Any, size: tuple[int, int], seconds: float, kind: str) -> Result:
    w, h = size
    port = free_port()
    worker = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--cabin-worker",
        str(port),
        str(w),
        str(h),
        str(int(kind == "aiortc-denoise")),
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert worker.stdout is not None
    await asyncio.wait_for(worker.stdout.readline(), 30)
    base = f"http://127.0.0.1:{port}"
    try:
        async with ClientSession() as http:
            join = time.time() * 1000
            await doctor.evaluate(f"start({w}, {h}, {FPS})")
            offer = await doctor.evaluate("makeOffer()")
            async with http.post(f"{base}/offer", json=offer) as resp:
                answer = await resp.json()
            await doctor.evaluate(f"acceptAnswer({json.dumps(answer)})")
            doctor_first = await wait_for(doctor, "window.firstFrameAt")
            deadline = time.monotonic() + FIRST_FRAME_BOUND_S
            cabin_first = None
            while cabin_first is None and time.monotonic() < deadline:
                async with http.get(f"{base}/stats") as resp:
                    cabin_first = (await resp.json())["first_frame_at"]
                await asyncio.sleep(0.01)
            assert cabin_first is not None, "the aiortc cabin never decoded a frame"
            cpu0, d0 = tree_cpu_s(worker.pid), await doctor.evaluate("inbound()")
            threads0 = thread_cpu_s(worker.pid)
            async with http.get(f"{base}/stats") as resp:
                s0 = await resp.json()
                c0 = s0["frames"]
            t0 = time.monotonic()
            await asyncio.sleep(seconds)
            cpu1, d1 = tree_cpu_s(worker.pid), await doctor.evaluate("inbound()")
            elapsed = time.monotonic() - t0
            threads1 = thread_cpu_s(worker.pid)
            split = sorted(
                ((threads1[k] - threads0.get(k, 0.0)) / elapsed * 100, k) for k in threads1
            )[::-1][:4]
            print(f"  {kind} cabin threads: " + ", ".join(f"{n} {p:.0f} %" for p, n in split))
            async with http.get(f"{base}/stats") as resp:
                s1 = await resp.json()
                c1 = s1["frames"]
            window_pct = 100 * (s1["window_cpu_s"] - s0["window_cpu_s"]) / elapsed
            print(f"  {kind} cabin video window thread: {window_pct:.1f} % of a core")
    finally:
        await doctor.evaluate("hangUp()")
        worker.terminate()
        await worker.wait()
    return Result.measured(
        kind,
        size,
        firsts_ms=(doctor_first - join, cabin_first - join),
        cpu_s=cpu1 - cpu0,
        doctor=(d0, d1),
        cabin_frames=c1 - c0,
        elapsed=elapsed,
    )


async def run_chromium(
    doctor: Any, cabin: Any, cabin_pid: int, size: tuple[int, int], seconds: float
) -> Result:
    w, h = size
    try:
        join = time.time() * 1000
        await doctor.evaluate(f"start({w}, {h}, {FPS})")
        offer = await doctor.evaluate("makeOffer()")
        await cabin.evaluate(f"start({w}, {h}, {FPS})")
        answer = await cabin.evaluate(f"acceptOffer({json.dumps(offer)})")
        await doctor.evaluate(f"acceptAnswer({json.dumps(answer)})")
        doctor_first = await wait_for(doctor, "window.firstFrameAt")
        cabin_first = await wait_for(cabin, "window.firstFrameAt")
        cpu0, d0, c0 = (
            tree_cpu_s(cabin_pid),
            await doctor.evaluate("inbound()"),
            await cabin.evaluate("inbound()"),
        )
        t0 = time.monotonic()
        await asyncio.sleep(seconds)
        cpu1, d1, c1 = (
            tree_cpu_s(cabin_pid),
            await doctor.evaluate("inbound()"),
            await cabin.evaluate("inbound()"),
        )
        elapsed = time.monotonic() - t0
    finally:
        await doctor.evaluate("hangUp()")
        await cabin.evaluate("hangUp()")
    return Result.measured(
        "chromium",
        size,
        firsts_ms=(doctor_first - join, cabin_first - join),
        cpu_s=cpu1 - cpu0,
        doctor=(d0, d1),
        cabin_frames=c1["frames"] - c0["frames"],
        elapsed=elapsed,
    )


async def fresh_page(browser: Any, url: str) -> Any:
    page = await browser.new_page()
    await page.goto(url)
    return page


async def bench(seconds: float, sizes: list[tuple[int, int]], cabins: list[str]) -> list[Result]:
    from playwright.async_api import async_playwright

    app = web.Application()

    async def page(_request: web.Request) -> web.StreamResponse:
        return web.FileResponse(PAGE)

    app.router.add_get("/", page)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    url = f"http://127.0.0.1:{port}/"
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-call-") as tmp:
        async with async_playwright() as pw:
            before = chromium_browser_pids()
            doctor_browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
            assert chromium_browser_pids() - before, "doctor browser not found"
            try:
                await warm_up(doctor_browser, url)
                for size in sizes:
                    y4m = Path(tmp) / f"pattern-{size[0]}x{size[1]}.y4m"
                    if "chromium" in cabins:
                        write_pattern_y4m(*size, y4m)
                    for kind in cabins:
                        results.append(
                            await one_call(
                                pw,
                                doctor_browser,
                                url,
                                kind=kind,
                                size=size,
                                y4m=y4m,
                                seconds=seconds,
                            )
                        )
                        print_result(results[-1])
            finally:
                await doctor_browser.close()
                await runner.cleanup()
    return results


async def warm_up(doctor_browser: Any, url: str) -> None:
    """The browser's first getUserMedia starts its media stack: not part of any call."""
    page = await fresh_page(doctor_browser, url)
    await page.evaluate(f"start(640, 480, {FPS})")
    await page.evaluate("hangUp()")
    await page.close()


async def one_call(
    pw: Any,
    doctor_browser: Any,
    url: str,
    *,
    kind: str,
    size: tuple[int, int],
    y4m: Path,
    seconds: float,
) -> Result:
    doctor = await fresh_page(doctor_browser, url)
    try:
        if kind.startswith("aiortc"):
            return await run_aiortc(doctor, size, seconds, kind)
        # A browser per call: its fake camera is the Y4M of this size.
        between = chromium_browser_pids()
        cabin_browser = await pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[*CHROMIUM_FLAGS, f"--use-file-for-fake-video-capture={y4m}"],
        )
        try:
            (cabin_pid,) = new_browser(between)
            cabin = await fresh_page(cabin_browser, url)
            await warm_up(cabin_browser, url)
            return await run_chromium(doctor, cabin, cabin_pid, size, seconds)
        finally:
            await cabin_browser.close()
    finally:
        await doctor.close()


def print_result(r: Result) -> None:
    w, h = r.size
    print(
        f"{r.cabin:14} {w}x{h}@{FPS}  join→first frame: doctor {r.doctor_first_ms:6.0f} ms, "
        f"cabin {r.cabin_first_ms:6.0f} ms | cabin CPU {r.cabin_cpu_pct:5.1f} % of a core | "
        f"doctor receives {r.doctor_got[0]}x{r.doctor_got[1]} at {r.doctor_fps:4.1f} fps "
        f"{r.doctor_kbps:5.0f} kbit/s, "
        f"cabin receives {r.cabin_fps:4.1f} fps",
        flush=True,
    )


def print_summary(results: list[Result], sizes: list[tuple[int, int]]) -> None:
    print("\nsummary (aiortc cabin / chromium cabin):")
    for size in sizes:
        c = next(r for r in results if r.size == size and r.cabin == "chromium")
        for a in (r for r in results if r.size == size and r.cabin != "chromium"):
            print(
                f"  {size[0]}x{size[1]} {a.cabin}: setup doctor "
                f"{a.doctor_first_ms:.0f}/{c.doctor_first_ms:.0f} ms"
                f" ({a.doctor_first_ms / c.doctor_first_ms:.2f}x), cabin "
                f"{a.cabin_first_ms:.0f}/{c.cabin_first_ms:.0f} ms "
                f"({a.cabin_first_ms / c.cabin_first_ms:.2f}x); cabin CPU "
                f"{a.cabin_cpu_pct:.0f}/{c.cabin_cpu_pct:.0f} % "
                f"({a.cabin_cpu_pct / c.cabin_cpu_pct:.2f}x)"
            )


def parse_size(text: str) -> tuple[int, int]:
    w, _, h = text.partition("x")
    return int(w), int(h)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="call length measured")
    parser.add_argument("--size", action="append", help="WxH (default: 640x480 and 1280x720)")
    parser.add_argument("--cabin", action="append", choices=CABINS)
    parser.add_argument("--cabin-worker", nargs=4, type=int, metavar=("PORT", "W", "H", "DENOISE"))
    args = parser.parse_args()
    if args.cabin_worker:
        port, w, h, denoise = args.cabin_worker
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(cabin_worker(port, w, h, bool(denoise)))
        return
    version = subprocess.getoutput("/usr/lib/chromium/chromium --version")
    print(f"machine: {os.cpu_count()} CPU(s); chromium: {version}")
    sizes = [parse_size(s) for s in args.size] if args.size else SIZES
    cabins = args.cabin or CABINS
    results = asyncio.run(bench(args.seconds, sizes, cabins))
    if "chromium" in cabins and len(cabins) > 1:
        print_summary(results, sizes)


if __name__ == "__main__":
    main()
