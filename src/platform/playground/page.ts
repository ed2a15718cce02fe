/**
 * @module
 * The playground page: one self-contained HTML document (styles and script inline), served by the
 * platform at `/`. No build step, no network beyond this platform, no framework: it is compiled into
 * `dist/` as a string, so the published package ships it with nothing to copy.
 *
 * What it shows: the employments (a chat box each, acting as the employer, live), a button per event
 * `emit` can raise (when the host attached an emitter), the handlers panel (in `dev`), and a live log
 * of what the platform sees, read from the server-sent events of `/dev/feed`.
 *
 * The script avoids template literals so that this file's own template literal holds it verbatim.
 */

const STYLE = /* css */ `
:root { --bg: #f6f7f9; --card: #fff; --ink: #1d232b; --dim: #6a7380; --line: #e3e6ea; --accent: #2f6fed;
  --ok: #1f8a4c; --bad: #c93c37; --me: #e8f0ff; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink); }
header { display: flex; align-items: center; gap: 12px; padding: 10px 20px; background: #151a21; color: #fff; }
header h1 { font-size: 16px; margin: 0; font-weight: 600; }
header .url { color: #9fb0c5; font-family: ui-monospace, monospace; font-size: 12px; }
header .live { margin-left: auto; font-size: 12px; color: #9fb0c5; }
header .live::before { content: ""; display: inline-block; width: 8px; height: 8px; border-radius: 50%;
  background: var(--bad); margin-right: 6px; }
header .live.on::before { background: #3ccf7a; }
main { display: grid; grid-template-columns: minmax(380px, 1.1fr) minmax(340px, 1fr); gap: 16px; padding: 16px 20px; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 8px; margin-bottom: 16px; }
section > h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .04em; color: var(--dim); margin: 0;
  padding: 10px 14px; border-bottom: 1px solid var(--line); }
.empty { color: var(--dim); padding: 12px 14px; }
.chat { border-top: 1px solid var(--line); }
.chat:first-of-type { border-top: 0; }
.chat .title { padding: 8px 14px; font-weight: 600; display: flex; gap: 8px; align-items: baseline; }
.chat .title small { color: var(--dim); font-weight: 400; }
.messages { list-style: none; margin: 0; padding: 6px 14px; max-height: 260px; overflow-y: auto; display: flex;
  flex-direction: column; gap: 6px; }
.messages li { max-width: 80%; padding: 6px 10px; border-radius: 10px; background: #f0f2f5; white-space: pre-wrap;
  word-break: break-word; }
.messages li.mine { align-self: flex-end; background: var(--me); }
.messages li.outcome { align-self: flex-start; background: none; color: var(--dim); font-size: 12px; padding: 0 4px; }
.messages li.outcome.bad { color: var(--bad); }
form.send { display: flex; gap: 8px; padding: 8px 14px 12px; }
form.send input { flex: 1; padding: 7px 10px; border: 1px solid var(--line); border-radius: 6px; font: inherit; }
button { font: inherit; padding: 6px 12px; border-radius: 6px; border: 1px solid var(--accent); background: var(--accent);
  color: #fff; cursor: pointer; }
button.ghost { background: #fff; color: var(--accent); }
button:disabled { opacity: .5; cursor: default; }
.events { display: flex; flex-wrap: wrap; gap: 6px; padding: 10px 14px; }
.events button { font-size: 12px; padding: 4px 9px; }
.row { padding: 10px 14px 0; color: var(--dim); }
.row select { font: inherit; }
#emit-status { padding: 0 14px 12px; font-family: ui-monospace, monospace; font-size: 12px; white-space: pre-wrap; }
#handlers { list-style: none; margin: 0; padding: 8px 14px; }
#handlers li { padding: 3px 0; font-family: ui-monospace, monospace; font-size: 12px; }
#handlers li .bad { color: var(--bad); }
#handlers li .ok { color: var(--ok); }
#log { list-style: none; margin: 0; padding: 8px 14px; max-height: 420px; overflow-y: auto; font-family: ui-monospace,
  monospace; font-size: 12px; }
#log li { padding: 2px 0; border-bottom: 1px dashed #f0f1f3; white-space: pre-wrap; word-break: break-word; }
#log time { color: var(--dim); margin-right: 6px; }
#log .kind { display: inline-block; min-width: 100px; margin-right: 4px; color: var(--dim); }
#log .ok { color: var(--ok); }
#log .bad { color: var(--bad); }
`;

const SCRIPT = /* js */ `
(function () {
  'use strict';
  var world = { agents: [], employments: [], handlers: null, events: [] };
  var lastSeq = 0;
  var seen = {};
  var pending = null; // the last raise from a button: { event, ids }
  var byId = function (id) { return document.getElementById(id); };

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    for (var key in attrs || {}) node.setAttribute(key, attrs[key]);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function call(method, path, body) {
    return fetch(path, {
      method: method,
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then(function (res) { return res.json(); }).then(function (envelope) {
      if (!envelope.success) throw new Error(envelope.error.code + ': ' + envelope.error.message);
      return envelope.data;
    });
  }

  function agentName(id) {
    for (var i = 0; i < world.agents.length; i++) if (world.agents[i].id === id) return world.agents[i].name;
    return 'agent #' + id;
  }

  function short(value, max) {
    var text = typeof value === 'string' ? value : JSON.stringify(value);
    max = max || 120;
    return text.length > max ? text.slice(0, max - 1) + '\\u2026' : text;
  }

  // ---- employments and chats -------------------------------------------------------------------

  function chatOf(employmentId) { return document.querySelector('.chat[data-employment="' + employmentId + '"]'); }

  function addMessage(employmentId, message) {
    var chat = chatOf(employmentId);
    if (!chat || seen[message.messageId]) return;
    seen[message.messageId] = true;
    var employment = world.employments.find(function (e) { return e.id === employmentId; });
    var mine = employment && message.senderAgentId === employment.employerAgentId;
    var item = el('li', { class: mine ? 'mine' : 'theirs', 'data-sender': String(message.senderAgentId) }, message.content);
    item.title = agentName(message.senderAgentId);
    appendTo(chat.querySelector('.messages'), item);
  }

  function appendTo(list, item) {
    var atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    list.appendChild(item);
    if (atBottom) list.scrollTop = list.scrollHeight;
  }

  function renderEmployments() {
    var box = byId('employments');
    world.employments.forEach(function (employment) {
      var chat = chatOf(employment.id);
      if (!chat) {
        chat = el('div', { class: 'chat', 'data-employment': String(employment.id) });
        var title = el('div', { class: 'title' });
        title.appendChild(el('span', {}, 'Employment #' + employment.id));
        title.appendChild(el('small', {}));
        chat.appendChild(title);
        chat.appendChild(el('ul', { class: 'messages' }));
        var form = el('form', { class: 'send' });
        var input = el('input', { name: 'content', placeholder: 'Message as the employer\\u2026', autocomplete: 'off' });
        form.appendChild(input);
        form.appendChild(el('button', { type: 'submit' }, 'Send'));
        form.addEventListener('submit', function (event) {
          event.preventDefault();
          var content = input.value.trim();
          if (!content) return;
          input.value = '';
          call('POST', '/dev/messages', { employmentId: employment.id, content: content })
            .then(function (message) { addMessage(employment.id, message); })
            .catch(function (error) { logLine('error', error.message, 'bad'); });
        });
        chat.appendChild(form);
        box.appendChild(chat);
        call('GET', '/dev/employments/' + employment.id + '/messages').then(function (data) {
          data.messages.forEach(function (m) { addMessage(employment.id, m); });
        });
      }
      chat.querySelector('.title small').textContent =
        employment.employerAgentName + ' \\u2192 ' + employment.employeeAgentName + ' \\u00b7 ' + employment.status;
      var active = employment.status === 'active';
      chat.querySelector('input').disabled = !active;
      chat.querySelector('button').disabled = !active;
    });
    var empty = box.querySelector('.empty');
    if (empty) empty.hidden = world.employments.length > 0;
  }

  // ---- events, handlers ------------------------------------------------------------------------

  function renderEvents() {
    var section = byId('emit');
    section.hidden = world.events.length === 0;
    var select = byId('agent');
    var chosen = select.value;
    select.textContent = '';
    world.agents.forEach(function (agent) {
      var option = el('option', { value: String(agent.id) }, agent.name + ' (#' + agent.id + ')' + (agent.connected ? ' \\u25cf' : ''));
      select.appendChild(option);
    });
    var connected = world.agents.filter(function (a) { return a.connected; })[0];
    var employee = world.employments[0] && world.employments[0].employeeAgentId;
    select.value = chosen || String(connected ? connected.id : employee || '');
    var buttons = byId('events');
    if (buttons.childElementCount === world.events.length) return;
    buttons.textContent = '';
    world.events.forEach(function (name) {
      var button = el('button', { class: 'ghost', 'data-event': name, type: 'button' }, name);
      button.addEventListener('click', function () { raise(name, button); });
      buttons.appendChild(button);
    });
  }

  function raise(name, button) {
    button.disabled = true;
    var status = byId('emit-status');
    status.className = '';
    status.textContent = name + ': raising\\u2026';
    call('POST', '/dev/emit', { event: name, agentId: Number(byId('agent').value) })
      .then(function (result) {
        var ids = {};
        Object.keys(result).forEach(function (key) { if (typeof result[key] === 'number') ids[key] = result[key]; });
        pending = { event: name, ids: ids };
        status.textContent = '\\u2713 ' + name + ' raised ' + JSON.stringify(ids) + '\\n  waiting for the outcome\\u2026';
        // The feed may have carried the outcome before this answer came back.
        recent.forEach(function (o) { showOutcome(o); });
      })
      .catch(function (error) {
        status.className = 'bad';
        status.textContent = '\\u2717 ' + name + ': ' + error.message;
      })
      .finally(function () { button.disabled = false; });
  }

  function sameIds(ids) {
    if (!pending) return false;
    var keys = Object.keys(pending.ids);
    return keys.length > 0 && keys.every(function (key) { return ids[key] === undefined || ids[key] === pending.ids[key]; }) &&
      keys.some(function (key) { return ids[key] === pending.ids[key]; });
  }

  var recent = []; // the last outcomes, for a raise whose answer comes back after its outcome
  function showOutcome(o) {
    if (!pending || pending.shown || o.event !== pending.event || !sameIds(o.ids || {})) return;
    pending.shown = true;
    var status = byId('emit-status');
    status.className = o.ok ? '' : 'bad';
    status.textContent = status.textContent.replace('\\n  waiting for the outcome\\u2026', '') + '\\n  ' + o.text;
  }

  function renderHandlers(handlers) {
    var section = byId('handlers-section');
    section.hidden = handlers === null;
    if (handlers === null) return;
    var list = byId('handlers');
    list.textContent = '';
    if (handlers.length === 0) list.appendChild(el('li', { class: 'empty' }, 'no handler files yet'));
    handlers.forEach(function (h) {
      var item = el('li', { 'data-file': h.file });
      item.appendChild(el('span', { class: h.state === 'loaded' ? 'ok' : 'bad' }, h.state === 'loaded' ? '\\u2713 ' : '\\u2717 '));
      item.appendChild(document.createTextNode(h.file + (h.event ? '  (' + h.event + ')' : '')));
      if (h.error) item.appendChild(el('div', { class: 'bad' }, h.error));
      list.appendChild(item);
    });
  }

  // ---- the live log ----------------------------------------------------------------------------

  function logLine(kind, text, tone, at) {
    var item = el('li', { 'data-kind': kind });
    var time = at ? new Date(at) : new Date();
    item.appendChild(el('time', {}, time.toTimeString().slice(0, 8)));
    item.appendChild(el('span', { class: 'kind' }, kind));
    item.appendChild(el('span', tone ? { class: tone } : {}, text));
    appendTo(byId('log'), item);
  }

  var refresh = null;
  function reloadWorldSoon() {
    if (refresh) return;
    refresh = setTimeout(function () { refresh = null; loadWorld(); }, 100);
  }

  function onEntry(entry) {
    if (entry.seq <= lastSeq) return;
    lastSeq = entry.seq;
    switch (entry.type) {
      case 'message':
        addMessage(entry.employmentId, entry);
        logLine('message', '#' + entry.employmentId + ' ' + agentName(entry.senderAgentId) + ': ' + short(entry.content), '', entry.at);
        break;
      case 'notification': {
        logLine('notification', 'to ' + agentName(entry.agentId) + ': ' + entry.event + ' ' + short(entry.data) +
          (entry.delivered ? '' : '  (not connected)'), '', entry.at);
        if (pending && sameIds(entry.data) && entry.event !== pending.event) {
          byId('emit-status').textContent += '\\n  \\u21b3 ' + agentName(entry.agentId) + ' was told: ' + entry.event;
        }
        reloadWorldSoon();
        break;
      }
      case 'outcome': {
        var o = entry.outcome;
        logLine('outcome', o.text, o.ok ? 'ok' : 'bad', entry.at);
        if (o.employmentId !== undefined && chatOf(o.employmentId)) {
          appendTo(chatOf(o.employmentId).querySelector('.messages'),
            el('li', { class: 'outcome' + (o.ok ? '' : ' bad') }, o.text));
        }
        recent.push(o);
        if (recent.length > 50) recent.shift();
        showOutcome(o);
        break;
      }
      case 'connection':
        logLine('connection', agentName(entry.agentId) + ' connected', 'ok', entry.at);
        reloadWorldSoon();
        break;
      case 'disconnect':
        logLine('connection', agentName(entry.agentId) + ' disconnected', 'bad', entry.at);
        reloadWorldSoon();
        break;
      case 'rejected':
        logLine('refused', agentName(entry.agentId) + ': ' + entry.code + ' ' + entry.message, 'bad', entry.at);
        break;
      case 'handlers':
        renderHandlers(entry.handlers);
        break;
    }
  }

  function loadWorld() {
    return call('GET', '/dev/world').then(function (data) {
      world = data;
      renderEmployments();
      renderEvents();
      renderHandlers(world.handlers);
    });
  }

  function listen() {
    var feed = new EventSource('/dev/feed');
    var live = byId('live');
    feed.onopen = function () { live.className = 'live on'; live.textContent = 'live'; };
    feed.onerror = function () { live.className = 'live'; live.textContent = 'reconnecting\\u2026'; };
    feed.onmessage = function (event) { onEntry(JSON.parse(event.data)); };
  }

  byId('url').textContent = location.origin;
  loadWorld().then(listen, function (error) { logLine('error', error.message, 'bad'); listen(); });
})();
`;

/** The whole page. */
export const PLAYGROUND_HTML: string = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>c4c-runner playground</title>
<style>${STYLE}</style>
</head>
<body>
<header><h1>c4c-runner playground</h1><span class="url" id="url"></span><span class="live" id="live">connecting…</span></header>
<main>
  <div>
    <section id="employments"><h2>Employments — chat as the employer</h2><div class="empty">no employments</div></section>
  </div>
  <div>
    <section id="emit" hidden>
      <h2>Raise an event</h2>
      <div class="row">for <select id="agent" aria-label="agent"></select></div>
      <div class="events" id="events"></div>
      <div id="emit-status"></div>
    </section>
    <section id="handlers-section" hidden><h2>Handlers</h2><ul id="handlers"></ul></section>
    <section><h2>Live log</h2><ul id="log"></ul></section>
  </div>
</main>
<script>${SCRIPT}</script>
</body>
</html>
`;
