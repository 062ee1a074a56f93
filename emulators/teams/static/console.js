// Go Live Teams emulator console: plain JS over the /_emulator driver API, polled every 2 s.
"use strict";

const state = {
  channels: [],
  people: [],
  selected: null, // channel id, or "chat"
  lastRendered: "",
  drafts: {}, // reply drafts by root id, kept across re-renders
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
  toast.timer = setTimeout(() => { el.hidden = true; }, 4000);
}

function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

// Teams text is light HTML; show it escaped, with <at>Name</at> as a mention.
function renderText(text) {
  return escapeHtml(text || "").replace(/&lt;at&gt;(.*?)&lt;\/at&gt;/gi, '<span class="mention">@$1</span>');
}

function simpleMarkdown(text) {
  return escapeHtml(text)
    .replace(/\*\*(.+?)\*\*/g, "<strong>$1</strong>")
    .replace(/(^|[^*])\*(?!\s)(.+?)\*/g, "$1<em>$2</em>")
    .replace(/\[([^\]]+)\]\((https?:[^)\s]+)\)/g, '<a href="$2" target="_blank" rel="noopener">$1</a>')
    .replace(/&lt;at&gt;(.*?)&lt;\/at&gt;/gi, '<span class="mention">@$1</span>')
    .replace(/\n/g, "<br>");
}

if (window.AdaptiveCards) {
  AdaptiveCards.AdaptiveCard.onProcessMarkdown = (text, result) => {
    result.outputHtml = simpleMarkdown(text);
    result.didProcess = true;
  };
}

function currentPerson() {
  return state.people.find((p) => p.aadObjectId === $("person").value) || state.people[0];
}

function fromOf(person) {
  return { name: person.name, aadObjectId: person.aadObjectId };
}

function describe(person) {
  if (!person) return "";
  return person.role + (person.duty ? " · on duty: " + person.duty : "");
}

async function loadPeople() {
  state.people = await api("GET", "/_emulator/people");
  const select = $("person");
  const keep = select.value;
  select.innerHTML = "";
  for (const p of state.people) {
    const opt = document.createElement("option");
    opt.value = p.aadObjectId;
    opt.textContent = `${p.name} (${p.role}${p.duty ? ", " + p.duty : ""})`;
    opt.dataset.role = p.role;
    select.appendChild(opt);
  }
  if (keep && state.people.some((p) => p.aadObjectId === keep)) select.value = keep;
  $("person-info").textContent = describe(currentPerson());
}

async function loadChannels() {
  const data = await api("GET", "/_emulator/channels");
  $("team-name").textContent = data.teamName || "Go Live";
  state.channels = data.channels.filter((c) => c.state !== "deleted");
  if (!state.selected || (state.selected !== "chat" && !state.channels.some((c) => c.id === state.selected))) {
    const general = state.channels.find((c) => c.general) || state.channels[0];
    state.selected = general ? general.id : null;
  }
  const list = $("channels");
  list.innerHTML = "";
  for (const c of state.channels) {
    const li = document.createElement("li");
    const btn = document.createElement("button");
    btn.type = "button";
    btn.className = "channel-link" + (c.id === state.selected ? " selected" : "") + (c.state === "archived" ? " archived" : "");
    btn.dataset.channelId = c.id;
    btn.innerHTML = escapeHtml(c.name) + (c.state === "archived" ? '<span class="tag">(archived)</span>' : "");
    btn.addEventListener("click", () => select(c.id));
    li.appendChild(btn);
    list.appendChild(li);
  }
  $("chat-link").classList.toggle("selected", state.selected === "chat");
}

function select(id) {
  state.selected = id;
  state.lastRendered = "";
  refresh();
}

function renderCard(container, post, content) {
  if (!window.AdaptiveCards) {
    container.textContent = JSON.stringify(content);
    return;
  }
  const card = new AdaptiveCards.AdaptiveCard();
  card.hostConfig = new AdaptiveCards.HostConfig({ fontFamily: "Segoe UI, system-ui, sans-serif" });
  card.onExecuteAction = (action) => pressAction(post, action);
  try {
    card.parse(content);
    container.appendChild(card.render());
  } catch (err) {
    container.textContent = "Card could not be rendered: " + err;
  }
}

async function pressAction(post, action) {
  const type = action.getJsonTypeName ? action.getJsonTypeName() : "";
  if (type === "Action.OpenUrl") {
    window.open(action.url, "_blank", "noopener");
    return;
  }
  if (type !== "Action.Execute") {
    toast(`${type} is not emulated; Teams cards here use Action.Execute.`);
    return;
  }
  try {
    const result = await api("POST", "/_emulator/actions", {
      activityId: post.id,
      verb: action.verb,
      data: action.data || {},
      from: fromOf(currentPerson()),
    });
    const body = result.body || {};
    let message = `${action.title || action.verb}: HTTP ${result.status}`;
    if (body.statusCode) message += `, statusCode ${body.statusCode}`;
    if (typeof body.value === "string") message += ` - ${body.value}`;
    else if (body.value && body.value.message) message += ` - ${body.value.message}`;
    toast(message);
  } catch (err) {
    toast("Action failed: " + err.message);
  }
  state.lastRendered = "";
  refresh();
}

function renderPost(post) {
  const el = document.createElement("div");
  el.className = "post" + (post.deleted ? " deleted" : "");
  el.dataset.id = post.id;
  const time = post.timestamp ? new Date(post.timestamp).toLocaleString() : "";
  el.innerHTML =
    `<div class="post-head"><span class="author${post.fromBot ? " bot" : ""}">${escapeHtml(post.from.name || post.from.id || "")}</span>` +
    `<span class="time">${escapeHtml(time)}</span>` +
    (post.lastModified && !post.deleted && !post.fromBot ? '<span class="edited">Edited</span>' : "") +
    `</div><div class="text">${post.deleted ? "This message has been deleted." : renderText(post.text)}</div>`;
  for (const att of post.attachments || []) {
    if (att.contentType === "application/vnd.microsoft.card.adaptive" && att.content) {
      const host = document.createElement("div");
      host.className = "card-host";
      renderCard(host, post, att.content);
      el.appendChild(host);
    }
  }
  return el;
}

function renderThreads(threads, channel) {
  const box = $("threads");
  box.innerHTML = "";
  if (!threads.length) {
    box.innerHTML = '<div class="empty">No conversations yet. Start one below.</div>';
    return;
  }
  for (const root of threads) {
    const thread = document.createElement("article");
    thread.className = "thread";
    thread.dataset.rootId = root.id;
    thread.appendChild(renderPost(root));
    const replies = document.createElement("div");
    replies.className = "replies";
    for (const reply of root.replies || []) replies.appendChild(renderPost(reply));
    thread.appendChild(replies);
    if (channel) {
      const form = document.createElement("form");
      form.className = "reply-box";
      const input = document.createElement("input");
      input.placeholder = "Reply";
      input.value = state.drafts[root.id] || "";
      input.addEventListener("input", () => { state.drafts[root.id] = input.value; });
      const btn = document.createElement("button");
      btn.type = "submit";
      btn.textContent = "Reply";
      form.append(input, btn);
      form.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        if (!input.value.trim()) return;
        await send(input.value, root.id);
        delete state.drafts[root.id];
      });
      thread.appendChild(form);
    }
    box.appendChild(thread);
  }
  box.scrollTop = box.scrollHeight;
}

async function send(text, replyToId) {
  const person = currentPerson();
  try {
    let result;
    if (state.selected === "chat") {
      result = await api("POST", "/_emulator/personal/messages", { from: fromOf(person), text });
    } else {
      const body = { from: fromOf(person), text };
      if (replyToId) body.replyToId = replyToId;
      result = await api("POST", `/_emulator/channels/${encodeURIComponent(state.selected)}/messages`, body);
    }
    if (result.status >= 300 || result.status === 0) toast(`Posted; the bot answered HTTP ${result.status}`);
  } catch (err) {
    toast("Post failed: " + err.message);
  }
  state.lastRendered = "";
  await refresh();
}

async function refresh() {
  try {
    await loadChannels();
    let threads;
    let channel = null;
    if (state.selected === "chat") {
      const person = currentPerson();
      $("channel-title").textContent = "Chat with the bot";
      $("channel-state").textContent = person ? "as " + person.name : "";
      const chat = person ? await api("GET", `/_emulator/personal/${encodeURIComponent(person.aadObjectId)}`) : { messages: [] };
      threads = chat.messages.map((m) => ({ ...m, replies: [] }));
    } else if (state.selected) {
      channel = state.channels.find((c) => c.id === state.selected);
      $("channel-title").textContent = channel ? channel.name : "";
      $("channel-state").textContent = channel && channel.state === "archived" ? "Archived" : channel && channel.goLive ? "Go-live channel " + (channel.station || "") : "";
      threads = await api("GET", `/_emulator/channels/${encodeURIComponent(state.selected)}/threads`);
    } else {
      threads = [];
    }
    const key = state.selected + JSON.stringify(threads);
    if (key !== state.lastRendered) {
      renderThreads(threads, channel);
      state.lastRendered = key;
    }
  } catch (err) {
    console.error(err);
  }
}

$("composer").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const text = $("composer-text").value;
  if (!text.trim()) return;
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
  $("person-info").textContent = describe(currentPerson());
  if (state.selected === "chat") select("chat");
});
$("chat-link").addEventListener("click", () => select("chat"));

(async function main() {
  await loadPeople();
  await refresh();
  setInterval(refresh, 2000);
  setInterval(loadPeople, 15000);
})();
