"""Makes docs/img/patient-screen.png: the patient's screen during a call, as the sway layout
of systemd/screen/sway.conf puts it on a 1920x1080 touchscreen.

- left 40 %: the video window, from a real call: headless Debian Chromium as the doctor
  (its fake camera) calls an aiortc cabin on loopback; the cabin's RemoteMediaSink draws
  the doctor at real pixel size with the patient's self-view (synthetic camera) and this
  script saves its surface;
- right 60 %: the touchscreen UI's consultation screen (Textual's SVG export, as the UI
  tests build it) at the cell size foot gives it there.

    .venv/bin/python docs/img/make_patient_screen.py
"""

from __future__ import annotations

import asyncio
import base64
import socket
import sys
import time
from pathlib import Path

from aiohttp import web

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.chromium import CHROMIUM, CHROMIUM_FLAGS  # noqa: E402 - after the path

OUT = Path(__file__).with_name("patient-screen.png")
PAGE = REPO / "bench" / "bench_call_page.html"
SCREEN = (1920, 1080)
VIDEO_WINDOW = (SCREEN[0] * 2 // 5, SCREEN[1])  # sway.conf: 40 ppt
UI_CELLS = (120, 56)  # foot at ~10x19 px per cell in the other 60 %
DOCTOR_CAMERA = (640, 480)
FRAMES_BEFORE_SHOT = 45
BOUND_S = 30.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def video_window_png(browser: object, png: Path) -> None:
    import aioice.ice
    from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

    from video.config import CallSettings
    from video.media import cabin_tracks
    from video.render import RemoteMediaSink

    original = aioice.ice.get_host_addresses
    aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: [
        "127.0.0.1",
        *original(use_ipv4=use_ipv4, use_ipv6=use_ipv6),
    ]
    app = web.Application()
    app.router.add_get("/", lambda _r: web.FileResponse(PAGE))
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()

    settings = CallSettings.model_validate({"camera": {"width": 1280, "height": 720}})
    media = cabin_tracks(settings, synthetic=True)
    sink = RemoteMediaSink(settings, headless=True, window_size=VIDEO_WINDOW)
    sink.set_self_view(media.self_view())
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTrack(media.camera)
    pc.addTrack(media.audio)
    pc.on("track", sink.add_track)
    page = await browser.new_page()  # type: ignore[attr-defined]
    try:
        await page.goto(f"http://127.0.0.1:{port}/")
        await page.evaluate(f"start({DOCTOR_CAMERA[0]}, {DOCTOR_CAMERA[1]}, 30)")
        offer = await page.evaluate("makeOffer()")
        await pc.setRemoteDescription(RTCSessionDescription(offer["sdp"], offer["type"]))
        await pc.setLocalDescription(await pc.createAnswer())
        answer = {"sdp": pc.localDescription.sdp, "type": "answer"}
        await page.evaluate("(a) => acceptAnswer(a)", answer)
        deadline = time.monotonic() + BOUND_S
        while sink.frames_rendered < FRAMES_BEFORE_SHOT:
            if time.monotonic() > deadline:
                raise TimeoutError("no doctor frames on the cabin screen")
            await asyncio.sleep(0.05)
        await sink.save_screenshot(png)
    finally:
        await page.close()
        await pc.close()
        await sink.stop()
        await media.aclose()
        await runner.cleanup()


async def ui_svg() -> str:
    from tests.ui.test_snapshots import build

    app, run_before = build("consultation", "fr")
    async with app.run_test(size=UI_CELLS) as pilot:
        await run_before(pilot)
        await pilot.pause()
        return str(app.export_screenshot(title="Écran tactile (Textual dans foot)"))


async def main() -> None:
    from playwright.async_api import async_playwright

    video_png = OUT.with_name("patient-screen-video.png")
    svg = await ui_svg()
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            await video_window_png(browser, video_png)
            video_b64 = base64.b64encode(video_png.read_bytes()).decode()
            w, h = SCREEN
            vw = VIDEO_WINDOW[0]
            html = f"""<html><body style="margin:0;background:#000;width:{w}px;height:{h}px;
              display:flex"><img src="data:image/png;base64,{video_b64}"
              style="width:{vw}px;height:{h}px">
              <div style="width:{w - vw}px;height:{h}px;display:flex;align-items:center">
              <div id="ui" style="width:100%">{svg}</div></div></body></html>"""
            page = await browser.new_page(viewport={"width": w, "height": h})
            await page.set_content(html)
            await page.add_style_tag(content="#ui svg{width:100%;height:auto;display:block}")
            await page.screenshot(path=str(OUT))
        finally:
            await browser.close()
    print(OUT)
    print(video_png)


if __name__ == "__main__":
    asyncio.run(main())
