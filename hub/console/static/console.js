"use strict";
// The doctor console, served by the hub: the waiting room (queue.js), then the
// consultation: signaling relayed by the hub to the cabin, the WebRTC call (the cabin
// offers, we answer) peer to peer or through TURN, the data channel, measurements, chat,
// call quality, prescription and the consultation report (report.js).
const $ = (id) => document.getElementById(id);
const call = {
  ws: null, pc: null, dc: null, generation: 0, local: null, joined: false,
  cabinState: null, callState: null, lastStats: null, restartTimer: null,
  examOn: false, videoTracks: [], iceServers: [], icePolicy: "all", consultation: null,
  lastJoin: 0,
};
const RESTART_GRACE_MS = 2000;   // "disconnected" this long: ask the cabin to restart
const WS_RETRY_MS = 2000;

function showError(text) { $("errors").textContent = text; }

// -- signaling socket -----------------------------------------------------------------
function connectSignaling() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${scheme}://${location.host}/doctor/ws`);
  call.ws = ws;
  ws.onopen = () => {
    $("link-state").textContent = "en ligne"; $("link-state").className = "ok";
  };
  ws.onmessage = (event) => onMessage(JSON.parse(event.data));
  ws.onclose = () => {
    $("link-state").textContent = "hors ligne"; $("link-state").className = "warn";
    if (call.ws === ws) setTimeout(connectSignaling, WS_RETRY_MS);
  };
}

function sendSignal(msg) {
  if (call.ws && call.ws.readyState === WebSocket.OPEN) call.ws.send(JSON.stringify(msg));
}

// Requests to the cabin: over the data channel when it is open.
function sendRequest(msg) {
  if (call.dc && call.dc.readyState === "open") call.dc.send(JSON.stringify(msg));
  else sendSignal(msg);
}

// -- messages from the cabin ----------------------------------------------------------
const handlers = {
  hello: (msg) => {
    call.iceServers = msg.ice_servers; call.icePolicy = msg.ice_policy;
    Queue.siteZones(msg.site_timezones);
    $("doctor-name").textContent = msg.doctor.display_name;
    Report.configure(msg);
  },
  queue: (msg) => Queue.snapshot(msg.entries),
  queue_entry: (msg) => Queue.upsert(msg.entry),
  queue_removed: (msg) => Queue.remove(msg.cabin_id),
  consultation: onConsultation,
  report: (msg) => { if (msg.consultation_id === call.consultation) Report.load(msg); },
  report_saved: (msg) => Report.saved(msg),
  consultation_closed: () => { if (call.consultation !== null) onConsultationClosed(); },
  cabin_link: (msg) => {
    $("cabin-link").textContent = msg.online ? "" : "cabine injoignable (liaison coupée)";
    $("cabin-link").className = msg.online ? "" : "warn";
  },
  state: onState,
  patient: (msg) => showPatient(msg.patient),
  offer: onOffer,
  measurement: (msg) => { showMeasurement(msg); Report.addMeasurement(msg); },
  instrument_state: onInstrumentState,
  chat: (msg) => addChat(msg.sender, msg.text),
  print_job: showPrintJob,
  call_quality: (msg) => { $("quality-cabin").textContent = formatQuality(msg); },
  error: onError,
  accepted: (msg) => {
    if (msg.request === "prescription") { Prescription.clearErrors(); showError(""); }
  },
};

function onMessage(msg) {
  const handler = handlers[msg.type];
  if (handler) handler(msg);
}

function onError(msg) {
  if (msg.code === "replaced") call.ws = null;  // another tab took over: do not fight it
  if (msg.code === "logged_out") { location.assign("/login"); return; }
  if (msg.in_reply_to === "report_draft" || msg.in_reply_to === "report_sign") Report.refused(msg);
  else if (msg.problems && msg.problems.length) Prescription.showProblems(msg.problems);
  showError(msg.message);
}

// The hub gave us a patient (after "take", or again after a reload or a reconnection).
function onConsultation(msg) {
  const rejoined = call.consultation === msg.id;
  call.consultation = msg.id;
  $("queue-panel").hidden = true;
  $("consultation-panel").hidden = false;
  $("consultation-where").textContent = `${msg.site_name} · ${msg.cabin_id}`;
  showError("");
  if (!rejoined) resetConsultation();
}

function onConsultationClosed() {
  closePeer();
  call.joined = false;
  call.consultation = null;
  resetConsultation();
  $("consultation-where").textContent = "";
  $("cabin-state").textContent = "…";
  $("call-state").textContent = "…";
  $("patient").textContent = "Aucun patient.";
  $("consultation-panel").hidden = true;
  $("queue-panel").hidden = false;
}

const CABIN_STATES = {
  idle: "libre", closed: "fermée", check_in: "accueil du patient", waiting: "patient en attente",
  in_consultation: "en consultation", checkout: "fin de consultation",
  awaiting_disinfection: "désinfection à faire", cleaning: "désinfection", out_of_service: "hors service",
};
const CALL_STATES = {
  waiting: "en attente", connecting: "connexion…", connected: "connecté",
  reconnecting: "reconnexion…", ended: "terminé",
};

function onState(msg) {
  call.cabinState = msg.cabin_state;
  call.callState = msg.call_state;
  $("cabin-state").textContent = CABIN_STATES[msg.cabin_state] || msg.cabin_state;
  $("cabin-state").dataset.state = msg.cabin_state;
  $("call-state").textContent = CALL_STATES[msg.call_state] || msg.call_state;
  $("call-state").dataset.state = msg.call_state;
  Prescription.fillPrescriber(msg.prescriber || { name: msg.doctor });
  const canJoin = msg.cabin_state === "waiting" || msg.cabin_state === "in_consultation";
  $("join").disabled = !canJoin;
  $("end").disabled = msg.cabin_state !== "in_consultation";
  $("exam-toggle").hidden = !msg.exam_camera_available;
  call.examOn = msg.exam_camera_on;
  $("exam-toggle").textContent = call.examOn ? "Masquer la caméra d'examen" : "Afficher la caméra d'examen";
  $("exam-video").hidden = !call.examOn;
  showInstruments(msg.instruments);
  // A page reload during a consultation rejoins it; after the hub's link came back, a
  // call that is still up (peer to peer) is left alone.
  if (msg.cabin_state === "in_consultation" && !callUp() && !callStarting()) join();
  if (!canJoin) { closePeer(); call.joined = false; }
  // Nothing of one patient stays on the page for the next one.
  if (!["waiting", "in_consultation", "checkout"].includes(msg.cabin_state)) resetConsultation();
}

function resetConsultation() {
  for (const id of ["chat-log", "print-jobs", "live-measurement"]) $(id).textContent = "";
  $("measurements").tBodies[0].textContent = "";
  Prescription.reset();
  Report.reset();
}

function showPatient(p) {
  const box = $("patient");
  box.textContent = "";
  if (!p) { box.textContent = "Aucun patient en attente."; return; }
  const line = (label, value) => {
    const div = document.createElement("div");
    const b = document.createElement("b");
    b.textContent = `${label} : `;
    div.append(b, document.createTextNode(value ?? "—"));
    box.appendChild(div);
  };
  line("Patient", `${p.given_name ?? ""} ${p.family_name ?? ""}`.trim());
  line("Âge", p.age != null ? `${p.age} ans (né·e le ${p.birth_date ?? "?"})` : p.birth_date);
  line("Motif", p.reason);
  Report.prefillReason(p.reason);
  for (const [question, answer] of Object.entries(p.answers || {})) line(question, String(answer));
  Prescription.fillPatient(p);
}

// -- the call -------------------------------------------------------------------------
async function localMedia() {
  if (!call.local) {
    call.local = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
    $("self-view").srcObject = call.local;
  }
  return call.local;
}

async function join() {
  call.joined = true;
  call.lastJoin = Date.now();
  try { await localMedia(); } catch (e) { showError(`Caméra/micro indisponibles : ${e.name}`); }
  sendSignal({ type: "join" });
}

function callUp() {
  return call.pc !== null && call.pc.connectionState === "connected";
}

// A join or an offer under way (the cabin answers a join within a second; ICE takes a few).
const JOIN_GRACE_MS = 8000;
function callStarting() {
  if (Date.now() - call.lastJoin < JOIN_GRACE_MS) return true;
  return call.pc !== null && ["new", "connecting"].includes(call.pc.connectionState);
}

function closePeer() {
  if (call.pc) { call.pc.close(); call.pc = null; }
  call.dc = null;
}

async function onOffer(msg) {
  closePeer();  // a restart from the cabin: a fresh connection, same page
  // The hub's STUN and TURN servers, with a short-lived credential of our own.
  const pc = new RTCPeerConnection({
    iceServers: call.iceServers.map((s) => ({
      urls: s.urls, username: s.username ?? undefined, credential: s.credential ?? undefined,
    })),
    iceTransportPolicy: call.icePolicy,
  });
  call.pc = pc;
  call.generation = msg.generation;
  call.videoTracks = [];
  const generation = msg.generation;
  let answered = false;
  const pending = [];
  pc.onicecandidate = (event) => {
    const c = event.candidate;
    const out = { type: "ice_candidate", generation, candidate: c ? c.candidate : null,
      sdp_mid: c ? c.sdpMid : null, sdp_mline_index: c ? c.sdpMLineIndex : null };
    if (answered) sendSignal(out); else pending.push(out);
  };
  pc.ontrack = (event) => {
    if (event.track.kind !== "video") {
      const audio = $("remote-video");
      if (!audio.srcObject) audio.srcObject = new MediaStream();
      audio.srcObject.addTrack(event.track);
      return;
    }
    call.videoTracks.push({ mid: Number(event.transceiver.mid), track: event.track });
    call.videoTracks.sort((a, b) => a.mid - b.mid);
    const [camera, exam] = call.videoTracks;
    const main = $("remote-video");
    if (!main.srcObject) main.srcObject = new MediaStream();
    for (const t of main.srcObject.getVideoTracks()) if (t !== camera.track) main.srcObject.removeTrack(t);
    if (!main.srcObject.getVideoTracks().length) main.srcObject.addTrack(camera.track);
    if (exam) $("exam-video").srcObject = new MediaStream([exam.track]);
    playWithSound(main);
  };
  pc.ondatachannel = (event) => {
    call.dc = event.channel;
    event.channel.onmessage = (e) => onMessage(JSON.parse(e.data));
  };
  pc.oniceconnectionstatechange = () => watchConnection(pc);
  const stream = await localMedia().catch(() => null);
  $("remote-video").srcObject = null;
  if (stream) for (const track of stream.getTracks()) pc.addTrack(track, stream);
  await pc.setRemoteDescription({ type: "offer", sdp: msg.sdp });
  await pc.setLocalDescription(await pc.createAnswer());
  sendSignal({ type: "answer", sdp: pc.localDescription.sdp, generation });
  answered = true;
  for (const out of pending) sendSignal(out);
}

// Without a click on this page yet (e.g. after a reload) the browser may refuse to play
// sound: play muted and offer a button that turns the sound on.
function playWithSound(video) {
  video.play().catch(() => {
    video.muted = true;
    video.play().catch(() => {});
    const button = $("unmute");
    button.hidden = false;
    button.onclick = () => { video.muted = false; button.hidden = true; };
  });
}

function watchConnection(pc) {
  const state = pc.iceConnectionState;
  $("link-state").dataset.ice = state;
  clearTimeout(call.restartTimer);
  if (pc !== call.pc) return;
  if (state === "disconnected" || state === "failed") {
    call.restartTimer = setTimeout(() => {
      if (pc === call.pc && ["disconnected", "failed"].includes(pc.iceConnectionState)) {
        sendSignal({ type: "ice_restart", generation: call.generation });
      }
    }, state === "failed" ? 0 : RESTART_GRACE_MS);
  }
}

// -- call quality ---------------------------------------------------------------------
function formatQuality(q) {
  const parts = [];
  if (q.rtt_ms != null) parts.push(`RTT ${Math.round(q.rtt_ms)} ms`);
  if (q.loss_percent != null) parts.push(`pertes ${q.loss_percent.toFixed(1)} %`);
  if (q.bitrate_in_kbps != null) parts.push(`↓ ${Math.round(q.bitrate_in_kbps)} kb/s`);
  if (q.bitrate_out_kbps != null) parts.push(`↑ ${Math.round(q.bitrate_out_kbps)} kb/s`);
  return parts.join(" · ") || "—";
}

async function pageQuality() {
  const pc = call.pc;
  if (!pc) return;
  const stats = await pc.getStats();
  let rtt = null, lost = 0, received = 0, bytesIn = 0, bytesOut = 0;
  stats.forEach((s) => {
    if (s.type === "candidate-pair" && s.nominated && s.currentRoundTripTime != null) rtt = s.currentRoundTripTime * 1000;
    if (s.type === "inbound-rtp") { lost += s.packetsLost || 0; received += s.packetsReceived || 0; bytesIn += s.bytesReceived || 0; }
    if (s.type === "outbound-rtp") bytesOut += s.bytesSent || 0;
  });
  const now = performance.now();
  const q = { rtt_ms: rtt, loss_percent: lost + received ? (100 * lost) / (lost + received) : null };
  if (call.lastStats) {
    const dt = (now - call.lastStats.at) / 1000;
    q.bitrate_in_kbps = Math.max(0, bytesIn - call.lastStats.bytesIn) * 8 / dt / 1000;
    q.bitrate_out_kbps = Math.max(0, bytesOut - call.lastStats.bytesOut) * 8 / dt / 1000;
  }
  call.lastStats = { at: now, bytesIn, bytesOut };
  $("quality-page").textContent = formatQuality(q);
}

// -- measurements and instruments -----------------------------------------------------
const INSTRUMENT_KINDS = {
  blood_pressure: "tensiomètre", thermometer: "thermomètre", pulse_oximeter: "oxymètre",
  scale: "balance", body_composition: "impédancemètre", glucometer: "glucomètre",
  heart_rate: "cardiofréquencemètre", otoscope: "otoscope", dermatoscope: "dermatoscope",
  stethoscope: "stéthoscope",
};
const INSTRUMENT_STATES = {
  absent: "absent", ready: "prêt", measuring: "mesure en cours", error: "en erreur",
  low_battery: "batterie faible",
};

function showInstruments(instruments) {
  const box = $("instruments");
  box.textContent = "";
  for (const inst of instruments) {
    const row = document.createElement("div");
    row.className = "instrument";
    row.dataset.instrument = inst.name;
    const label = document.createElement("span");
    label.textContent =
      `${inst.name} (${INSTRUMENT_KINDS[inst.kind] || inst.kind}) : ${INSTRUMENT_STATES[inst.state] || inst.state}` +
      (inst.battery_percent != null ? ` · batterie ${inst.battery_percent} %` : "");
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = "Mesurer";
    button.className = "measure";
    button.dataset.instrument = inst.name;
    button.onclick = () => sendRequest({ type: "measure", instrument: inst.name });
    row.append(label, button);
    box.appendChild(row);
  }
}

function onInstrumentState(msg) {
  const row = document.querySelector(`.instrument[data-instrument="${CSS.escape(msg.instrument)}"] span`);
  if (row) row.textContent = `${msg.instrument} (${msg.kind}) : ${msg.state}` +
    (msg.battery_percent != null ? ` · batterie ${msg.battery_percent} %` : "");
}

// The LOINC codes and UCUM units in French as the hub names them (its hello: the
// report's own table, hub/shared/report_pdf.py).
function formatValue(o) {
  const label = Report.label(o.code, o.display);
  if (o.value == null) return `${label} : —`;
  return `${label} : ${o.value} ${Report.unit(o.unit)}`;
}

function showMeasurement(msg) {
  const text = msg.measurement.observations.map(formatValue).join(" · ");
  if (msg.measurement.intermediate) { $("live-measurement").textContent = `${msg.instrument} … ${text}`; return; }
  $("live-measurement").textContent = "";
  const row = document.createElement("tr");
  row.className = "measurement";
  const cells = [new Date(msg.at).toLocaleTimeString("fr-FR"), msg.instrument, text,
    (msg.measurement.status || []).join(", ")];
  for (const value of cells) {
    const td = document.createElement("td");
    td.textContent = value;
    row.appendChild(td);
  }
  if ((msg.measurement.status || []).length) row.classList.add("flagged");
  $("measurements").tBodies[0].prepend(row);
}

// -- chat, print jobs -----------------------------------------------------------------
function addChat(sender, text) {
  const line = document.createElement("p");
  line.className = `chat ${sender}`;
  line.textContent = `${sender === "doctor" ? "Vous" : "Patient"} : ${text}`;
  $("chat-log").appendChild(line);
  $("chat-log").scrollTop = $("chat-log").scrollHeight;
}

const PRINT_STATES = { stored: "enregistrée", queued: "en file", printing: "impression…",
  completed: "imprimée", retrying: "nouvel essai", failed: "échec" };
function showPrintJob(msg) {
  let item = document.querySelector(`#print-jobs [data-id="${CSS.escape(msg.document_id)}"]`);
  if (!item) {
    item = document.createElement("li");
    item.dataset.id = msg.document_id;
    $("print-jobs").appendChild(item);
  }
  item.dataset.state = msg.state;
  item.textContent = `${msg.document === "prescription" ? "Ordonnance" : "Compte rendu"} : ` +
    `${PRINT_STATES[msg.state] || msg.state}${msg.message ? ` — ${msg.message}` : ""}`;
}

// -- controls -------------------------------------------------------------------------
function wire() {
  $("join").onclick = join;
  $("end").onclick = endConsultation;
  $("logout").onclick = async () => {
    await fetch("/logout", { method: "POST", credentials: "same-origin" });
    location.assign("/login");
  };
  $("mute").onclick = () => toggleTrack("audio", $("mute"), "Couper le micro", "Rétablir le micro");
  $("camera").onclick = () => toggleTrack("video", $("camera"), "Couper la caméra", "Rétablir la caméra");
  $("exam-toggle").onclick = () => sendSignal({ type: "show_exam_camera", on: !call.examOn });
  $("chat-form").onsubmit = (e) => {
    e.preventDefault();
    const text = $("chat-input").value.trim();
    if (!text) return;
    sendRequest({ type: "chat", text });
    addChat("doctor", text);
    $("chat-input").value = "";
  };
  $("instruction-form").onsubmit = (e) => {
    e.preventDefault();
    const text = $("instruction-input").value.trim();
    if (text) sendRequest({ type: "instruction", text });
    $("instruction-input").value = "";
  };
  $("add-item").onclick = Prescription.addItem;
  Prescription.addItem();
  $("prescription-form").onsubmit = (e) => {
    e.preventDefault();
    sendRequest({ type: "prescription", id: `rx-${Date.now()}`, prescription: Prescription.collect() });
  };
}

// "Terminer": the report is signed with it when it can be; it may also end unsigned
// (the patient left, the conclusion waits for a result) and be signed later from
// "Mes consultations".
const LATER = "Vous pourrez le compléter et le signer plus tard dans « Mes consultations ».";
function endConsultation() {
  const end = () => sendRequest({ type: "end" });
  if (Report.isSigned()) {
    if (confirm("Terminer la consultation ?")) end();
    return;
  }
  if (Report.hasConclusion()) {
    if (confirm("Signer le compte rendu et terminer la consultation ?")) {
      Report.sign(end);  // ends once the hub has the signature (a refusal ends nothing)
      return;
    }
    if (confirm(`Terminer sans signer le compte rendu ? ${LATER}`)) { Report.flush(); end(); }
    return;
  }
  if (confirm(`Le compte rendu n'a pas de conclusion : il ne sera pas signé. Terminer la consultation ? ${LATER}`)) {
    Report.flush();
    end();
  }
}

function toggleTrack(kind, button, onLabel, offLabel) {
  if (!call.local) return;
  for (const track of call.local.getTracks()) {
    if (track.kind === kind) {
      track.enabled = !track.enabled;
      button.textContent = track.enabled ? onLabel : offLabel;
    }
  }
}

wire();
Report.wire(sendSignal);
Queue.wire(sendSignal);
connectSignaling();
setInterval(() => { pageQuality().catch(() => {}); }, 2000);
