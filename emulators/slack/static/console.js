// Slack emulator console: plain JS over the /_emulator driver API, polled every 2 s.
"use strict";

const state = {
  channels: [],
  people: [],
  selected: new URLSearchParams(location.search).get("channel"),
  highlight: location.hash.slice(1),
  lastRendered: "",
  drafts: {}, // reply drafts by root ts, kept across re-renders
};

const $ = (id) => document.getElementById(id);

async function api(method, path, body) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const resp = await fetch(path, init);
  const text = await resp.text();
  const data = text ? JSON.parse(text) : null;
  if (!resp.ok) throw new Error((data && data.error && data.error.message) || resp.statusText);
  return data;
}

function toast(message) {
  const el = $("toast");
  el.textContent = message;
  el.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { el.hidden = true; }, 4500);
}

function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

function personName(id) {
  const p = state.people.find((x) => x.id === id);
  return p ? p.name : id;
}

// Slack text: <@U..>, <#C..|name>, <!here>, <url|label> control sequences; &lt; &gt; &amp; entities.
function formatPlain(s) {
  const decoded = s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
  return escapeHtml(decoded)
    .replace(/```([\s\S]+?)```/g, "<pre>$1</pre>")
    .replace(/`([^`\n]+)`/g, "<code>$1</code>")
    .replace(/(^|[\s(])\*([^*\n]+)\*/g, "$1<strong>$2</strong>")
    .replace(/(^|[\s(])_([^_\n]+)_/g, "$1<em>$2</em>")
    .replace(/(^|[\s(])~([^~\n]+)~/g, "$1<del>$2</del>")
    .replace(/\n/g, "<br>");
}

function mrkdwn(text) {
  let out = "";
  let last = 0;
  const re = /<([^<>]+)>/g;
  let m;
  while ((m = re.exec(text || "")) !== null) {
    out += formatPlain(text.slice(last, m.index));
    last = re.lastIndex;
    const [target, label] = m[1].split("|");
    if (target.startsWith("@")) out += `<span class="mention">@${escapeHtml(label || personName(target.slice(1)))}</span>`;
    else if (target.startsWith("#")) out += `<span class="mention">#${escapeHtml(label || target.slice(1))}</span>`;
    else if (target.startsWith("!")) out += `<span class="mention">@${escapeHtml(target.slice(1).split("^")[0])}</span>`;
    else if (/^(https?|mailto):/.test(target)) out += `<a href="${escapeHtml(target)}" target="_blank" rel="noopener">${escapeHtml(label || target)}</a>`;
    else out += escapeHtml(m[0]);
  }
  return out + formatPlain((text || "").slice(last));
}

function textObject(obj) {
  if (!obj) return "";
  return obj.type === "mrkdwn" ? mrkdwn(obj.text) : escapeHtml(obj.text || "");
}

function richText(block) {
  const parts = [];
  const walk = (elements) => {
    for (const el of elements || []) {
      if (el.type === "text") parts.push(formatPlain(el.text || ""));
      else if (el.type === "user") parts.push(`<span class="mention">@${escapeHtml(personName(el.user_id))}</span>`);
      else if (el.type === "channel") parts.push(`<span class="mention">#${escapeHtml(el.channel_id)}</span>`);
      else if (el.type === "link") parts.push(`<a href="${escapeHtml(el.url)}" target="_blank" rel="noopener">${escapeHtml(el.text || el.url)}</a>`);
      else if (el.type === "emoji") parts.push(`:${escapeHtml(el.name)}:`);
      else if (el.elements) walk(el.elements);
    }
  };
  walk(block.elements);
  return parts.join("");
}

function currentPerson() {
  return state.people.find((p) => p.id === $("person").value) || state.people[0];
}

// --- Block Kit ---------------------------------------------------------------------------------

function renderElement(el, message) {
  if (el.type === "button") {
    const btn = document.createElement("button");
    btn.type = "button";
    btn.className = "sk-button" + (el.style ? " " + el.style : "");
    btn.textContent = (el.text && el.text.text) || el.action_id;
    btn.dataset.actionId = el.action_id;
    btn.addEventListener("click", () => {
      if (el.url) window.open(el.url, "_blank", "noopener");
      press(message, el.action_id, el.value, btn.textContent);
    });
    return btn;
  }
  if (el.type === "static_select" || el.type === "overflow") {
    const select = document.createElement("select");
    select.className = "sk-select";
    select.dataset.actionId = el.action_id;
    const first = document.createElement("option");
    first.textContent = el.type === "overflow" ? "…" : (el.placeholder && el.placeholder.text) || "Select an item";
    first.value = "";
    select.appendChild(first);
    const options = (el.options || []).concat(...(el.option_groups || []).map((g) => g.options || []));
    for (const o of options) {
      const opt = document.createElement("option");
      opt.value = o.value;
      opt.textContent = (o.text && o.text.text) || o.value;
      select.appendChild(opt);
    }
    select.addEventListener("change", () => {
      if (select.value) press(message, el.action_id, select.value, select.selectedOptions[0].textContent);
    });
    return select;
  }
  if (el.type === "image") {
    const img = document.createElement("img");
    img.src = el.image_url;
    img.alt = el.alt_text || "";
    img.width = 64;
    return img;
  }
  const span = document.createElement("span");
  span.className = "block-unknown";
  span.textContent = `[${el.type}]`;
  return span;
}

function renderBlock(block, message) {
  const el = document.createElement("div");
  el.className = "block block-" + block.type;
  switch (block.type) {
    case "section": {
      const main = document.createElement("div");
      main.className = "section-main";
      main.innerHTML = `<div class="text">${textObject(block.text)}</div>`;
      if (block.fields) {
        const fields = document.createElement("div");
        fields.className = "fields";
        fields.innerHTML = block.fields.map((f) => `<div class="text">${textObject(f)}</div>`).join("");
        main.appendChild(fields);
      }
      el.appendChild(main);
      if (block.accessory) el.appendChild(renderElement(block.accessory, message));
      break;
    }
    case "header":
      el.textContent = (block.text && block.text.text) || "";
      break;
    case "context":
      for (const item of block.elements || []) {
        if (item.type === "image") {
          el.appendChild(renderElement(item, message));
        } else {
          const span = document.createElement("span");
          span.innerHTML = textObject(item);
          el.appendChild(span);
        }
      }
      break;
    case "actions":
      for (const item of block.elements || []) el.appendChild(renderElement(item, message));
      break;
    case "divider":
      return Object.assign(document.createElement("hr"), { className: "block block-divider" });
    case "image":
      el.appendChild(renderElement(block, message));
      break;
    case "rich_text":
      el.innerHTML = `<div class="text">${richText(block)}</div>`;
      break;
    default:
      el.className = "block block-unknown";
      el.textContent = `[${block.type} block]`;
  }
  return el;
}

async function press(message, actionId, value, label) {
  try {
    const body = { channel: state.selected, message_ts: message.ts, action_id: actionId, user: currentPerson().id };
    if (value !== undefined && value !== null) body.value = value;
    const result = await api("POST", "/_emulator/actions", body);
    toast(`${label}: the bot answered HTTP ${result.status}`);
  } catch (err) {
    toast("Action failed: " + err.message);
  }
  state.lastRendered = "";
  refresh();
}

// --- messages ----------------------------------------------------------------------------------

function timeOf(ts) {
  return new Date(parseFloat(ts) * 1000).toLocaleString();
}

function renderMessage(msg) {
  const el = document.createElement("div");
  const system = msg.subtype === "channel_join";
  el.className = "msg" + (msg.deleted ? " deleted" : "") + (system ? " system" : "");
  el.dataset.ts = msg.ts;
  const bot = Boolean(msg.bot_id);
  const name = msg.missing ? "(message not seen)" : msg.name || msg.user || "";
  const avatar = document.createElement("div");
  avatar.className = "avatar" + (bot ? " bot" : "");
  avatar.textContent = (name || "?").slice(0, 1).toUpperCase();
  const body = document.createElement("div");
  body.className = "msg-body";
  const person = currentPerson();
  const own = !bot && !msg.deleted && !msg.missing && !system && person && msg.user === person.id;
  // As in Slack, a message with layout blocks shows the blocks; its text is only the fallback.
  const blocks = (msg.blocks || []).filter((b) => b.type !== "rich_text");
  const shownText = msg.deleted ? "This message was deleted." : blocks.length ? "" : mrkdwn(msg.text);
  body.innerHTML =
    `<div class="msg-head"><span class="author">${escapeHtml(name)}</span>` +
    (bot ? '<span class="app-tag">APP</span>' : "") +
    `<span class="time">${escapeHtml(timeOf(msg.ts))}</span>` +
    (msg.edited && !msg.deleted ? '<span class="edited">(edited)</span>' : "") +
    (own ? '<span class="tools"><button type="button" data-op="edit">edit</button><button type="button" data-op="delete">delete</button></span>' : "") +
    `</div><div class="text">${shownText}</div>`;
  if (blocks.length && !msg.deleted) {
    const host = document.createElement("div");
    host.className = "blocks";
    for (const block of blocks) host.appendChild(renderBlock(block, msg));
    body.appendChild(host);
  }
  for (const tool of body.querySelectorAll(".tools button")) {
    tool.addEventListener("click", () => (tool.dataset.op === "edit" ? editMessage(msg) : deleteMessage(msg)));
  }
  el.append(avatar, body);
  return el;
}

async function editMessage(msg) {
  const text = window.prompt("Edit message", msg.text);
  if (text === null || !text.trim()) return;
  const result = await api("POST", `/_emulator/channels/${state.selected}/messages/${msg.ts}/edit`, { text });
  toast(`Edited; the bot answered ${result.status === null ? "nothing (not delivered)" : "HTTP " + result.status}`);
  state.lastRendered = "";
  refresh();
}

async function deleteMessage(msg) {
  if (!window.confirm("Delete this message?")) return;
  const result = await api("POST", `/_emulator/channels/${state.selected}/messages/${msg.ts}/delete`, {});
  toast(`Deleted; the bot answered ${result.status === null ? "nothing (not delivered)" : "HTTP " + result.status}`);
  state.lastRendered = "";
  refresh();
}

function renderMessages(roots, ephemerals) {
  const box = $("messages");
  const keepScroll = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
  box.innerHTML = "";
  if (!roots.length && !ephemerals.length) {
    box.innerHTML = '<div class="empty">No messages yet. Say something below.</div>';
    return;
  }
  for (const root of roots) {
    const thread = document.createElement("article");
    thread.className = "thread" + (root.ts === state.highlight ? " highlight" : "");
    thread.id = "t" + root.ts;
    thread.appendChild(renderMessage(root));
    const replies = document.createElement("div");
    replies.className = "replies";
    for (const reply of root.replies || []) replies.appendChild(renderMessage(reply));
    if ((root.replies || []).length) thread.appendChild(replies);
    if (root.subtype !== "channel_join") {
      const form = document.createElement("form");
      form.className = "reply-box";
      const input = document.createElement("input");
      input.placeholder = "Reply in thread";
      input.value = state.drafts[root.ts] || "";
      input.addEventListener("input", () => { state.drafts[root.ts] = input.value; });
      const btn = document.createElement("button");
      btn.type = "submit";
      btn.textContent = "Reply";
      form.append(input, btn);
      form.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        if (!input.value.trim()) return;
        await send(input.value, root.ts);
        delete state.drafts[root.ts];
      });
      thread.appendChild(form);
    }
    box.appendChild(thread);
  }
  for (const e of ephemerals) {
    const el = document.createElement("div");
    el.className = "ephemeral";
    el.innerHTML = `<div class="only-you">Only visible to you</div><div class="text">${mrkdwn(e.text)}</div>`;
    for (const block of e.blocks || []) el.appendChild(renderBlock(block, { ts: e.message_ts }));
    box.appendChild(el);
  }
  const target = state.highlight && document.getElementById("t" + state.highlight);
  if (target) {
    target.scrollIntoView();
    state.highlight = "";
  } else if (keepScroll) {
    box.scrollTop = box.scrollHeight;
  }
}

function describeResult(result) {
  if (!result.delivered) return "Posted; not delivered (" + (result.reason || "the bot is not in this channel") + ")";
  return result.status >= 300 ? `Posted; the bot answered HTTP ${result.status}` : "";
}

async function send(text, threadTs) {
  const person = currentPerson();
  try {
    if (!threadTs && text.startsWith("/")) {
      const [command, ...rest] = text.split(" ");
      const result = await api("POST", "/_emulator/slash", { channel: state.selected, user: person.id, command, text: rest.join(" ") });
      toast(`${command}: the bot answered HTTP ${result.status}`);
    } else {
      const body = { user: person.id, text };
      if (threadTs) body.thread_ts = threadTs;
      const result = await api("POST", `/_emulator/channels/${encodeURIComponent(state.selected)}/messages`, body);
      const note = describeResult(result);
      if (note) toast(note);
    }
  } catch (err) {
    toast("Post failed: " + err.message);
  }
  state.lastRendered = "";
  await refresh();
}

async function loadPeople() {
  state.people = await api("GET", "/_emulator/people");
  const select = $("person");
  const keep = select.value;
  select.innerHTML = "";
  for (const p of state.people) {
    const opt = document.createElement("option");
    opt.value = p.id;
    opt.textContent = `${p.name} (${p.role}${p.duty ? ", " + p.duty : ""})`;
    select.appendChild(opt);
  }
  if (keep && state.people.some((p) => p.id === keep)) select.value = keep;
  const p = currentPerson();
  $("person-info").textContent = p ? `${p.id} · ${p.email}` : "";
}

async function loadChannels() {
  const data = await api("GET", "/_emulator/channels");
  $("workspace").textContent = data.teamName || "Slack";
  state.channels = data.channels;
  const byName = state.channels.find((c) => c.name === state.selected);
  if (byName) state.selected = byName.id;
  if (!state.channels.some((c) => c.id === state.selected)) state.selected = state.channels.length ? state.channels[0].id : null;
  const list = $("channels");
  list.innerHTML = "";
  for (const c of state.channels) {
    const li = document.createElement("li");
    const btn = document.createElement("button");
    btn.type = "button";
    btn.className = "channel-link" + (c.id === state.selected ? " selected" : "") + (c.is_archived ? " archived" : "");
    btn.dataset.channelId = c.id;
    btn.innerHTML = "# " + escapeHtml(c.name) + (c.is_member ? "" : '<span class="tag">(bot not in)</span>');
    btn.addEventListener("click", () => select(c.id));
    li.appendChild(btn);
    list.appendChild(li);
  }
}

function select(id) {
  state.selected = id;
  state.lastRendered = "";
  history.replaceState(null, "", "?channel=" + encodeURIComponent(id));
  refresh();
}

async function refresh() {
  try {
    await loadChannels();
    if (!state.selected) return;
    const channel = state.channels.find((c) => c.id === state.selected);
    $("channel-title").textContent = channel ? "# " + channel.name : "";
    $("channel-state").textContent = channel && channel.is_archived ? "Archived" : channel ? channel.id : "";
    const person = currentPerson();
    const [roots, ephemerals] = await Promise.all([
      api("GET", `/_emulator/channels/${encodeURIComponent(state.selected)}/messages`),
      person ? api("GET", `/_emulator/ephemeral?user=${encodeURIComponent(person.id)}&channel=${encodeURIComponent(state.selected)}`) : [],
    ]);
    const key = state.selected + (person ? person.id : "") + JSON.stringify(roots) + JSON.stringify(ephemerals);
    if (key !== state.lastRendered) {
      renderMessages(roots, ephemerals);
      state.lastRendered = key;
    }
  } catch (err) {
    console.error(err);
  }
}

$("composer").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const text = $("composer-text").value;
  if (!text.trim() || !state.selected) return;
  $("composer-send").disabled = true;
  await send(text, null);
  $("composer-text").value = "";
  $("composer-send").disabled = false;
});
$("composer-text").addEventListener("keydown", (ev) => {
  if (ev.key === "Enter" && !ev.shiftKey) {
    ev.preventDefault();
    $("composer").requestSubmit();
  }
});
$("person").addEventListener("change", () => {
  const p = currentPerson();
  $("person-info").textContent = p ? `${p.id} · ${p.email}` : "";
  state.lastRendered = "";
  refresh();
});

(async function main() {
  await loadPeople();
  await refresh();
  setInterval(refresh, 2000);
  setInterval(loadPeople, 15000);
})();
