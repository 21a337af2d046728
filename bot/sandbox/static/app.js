/* The sandbox page: polls /api/state for what the acting user sees and renders it from Block Kit;
   every command, click, menu choice and form goes back through /api/* as a signed Slack request.
   Untrusted text only ever reaches the DOM as text nodes (see mrkdwn.js). */
(function () {
  "use strict";
  const M = window.Mrkdwn;
  const $ = (id) => document.getElementById(id);
  // the server refuses API calls without the token it put in this page (no other origin can read it)
  const TOKEN = document.querySelector('meta[name="handoff-sandbox-token"]').content;

  const S = {
    user: localStorage.getItem("sandbox.user") || "U0MARKETER",
    place: localStorage.getItem("sandbox.place") || "home", // "home" or a channel id
    thread: null, // {channel, ts}
    state: null,
    etag: null,
    modalKey: null,
    seen: {}, // user → channel → latest ts seen
    lastHomeOpen: 0,
  };

  // ------------------------------------------------------------------ tiny DOM helper
  function h(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "on") for (const [ev, fn] of Object.entries(v)) node.addEventListener(ev, fn);
      else if (k === "dataset") Object.assign(node.dataset, v);
      else if (k in node && typeof v !== "string") node[k] = v;
      else node.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    }
    return node;
  }

  // ------------------------------------------------------------------ server calls
  async function api(action, body) {
    const res = await fetch(`/api/${action}`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Handoff-Sandbox-Token": TOKEN },
      body: JSON.stringify({ user: S.user, ...body }),
    });
    if (res.status === 403 || res.status === 421) document.body.classList.add("stale");
    let data = {};
    try { data = await res.json(); } catch (e) { data = { ok: false, error: `HTTP ${res.status}` }; }
    refreshSoon();
    return data;
  }

  let pollTimer = null;
  async function poll() {
    clearTimeout(pollTimer);
    try {
      const headers = { "X-Handoff-Sandbox-Token": TOKEN };
      if (S.etag) headers["If-None-Match"] = S.etag;
      const res = await fetch(`/api/state?user=${encodeURIComponent(S.user)}`, { headers, cache: "no-store" });
      if (res.status === 200) {
        S.etag = res.headers.get("ETag");
        S.state = await res.json();
        render();
      } else if (res.status === 400) {
        S.user = "U0MARKETER";
        S.etag = null;
      } else if (res.status === 403 || res.status === 421) {
        // a restarted sandbox has a new token: this page's is refused until it is reloaded
        document.body.classList.add("stale");
      }
      document.body.classList.remove("offline");
    } catch (e) {
      document.body.classList.add("offline");
    }
    pollTimer = setTimeout(poll, 700);
  }

  function refreshSoon() {
    // the bot answers through its outbox a moment later: look again shortly
    setTimeout(poll, 60);
    setTimeout(poll, 400);
  }

  function toast(msg) {
    const t = $("toast");
    t.textContent = msg;
    t.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => { t.hidden = true; }, 5000);
  }

  // ------------------------------------------------------------------ names, times
  function user(id) { return (S.state.users || []).find((u) => u.id === id); }
  function userName(id) { const u = user(id); return u ? u.real_name : id; }
  function channel(id) { return (S.state.channels || []).find((c) => c.id === id); }
  function channelName(id) { const c = channel(id); return c ? c.name : id; }
  const mctx = { userName, channelName };

  function timeOf(ts) {
    const d = new Date(parseFloat(ts) * 1000);
    const today = new Date().toDateString() === d.toDateString();
    const t = d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    return today ? t : `${d.toLocaleDateString([], { month: "short", day: "numeric" })} ${t}`;
  }

  function avatar(id, isBot) {
    const name = isBot ? "Handoff" : userName(id);
    const initials = name.split(/\s+/).map((p) => p[0] || "").join("").slice(0, 2).toUpperCase();
    let hash = 0;
    for (const ch of String(id || "")) hash = (hash * 31 + ch.charCodeAt(0)) % 360;
    const av = h("div", { class: "avatar" + (isBot ? " bot" : "") }, initials);
    av.dataset.hue = String(Math.floor(hash / 30));
    return av;
  }

  // ------------------------------------------------------------------ Block Kit
  function textObj(obj) {
    if (!obj) return h("span");
    if (typeof obj === "string") return M.render(obj, mctx);
    if (obj.type === "mrkdwn") return obj.verbatim ? h("div", { class: "mrkdwn" }, M.decode(obj.text || "")) : M.render(obj.text, mctx);
    return h("span", { class: "plain" }, M.plain(obj));
  }

  function plainString(obj) {
    if (!obj) return "";
    return M.emojify(typeof obj === "string" ? obj : String(obj.text || ""));
  }

  function optionsOf(el) {
    const out = [...(el.options || [])];
    for (const g of el.option_groups || []) out.push(...(g.options || []));
    return out;
  }

  async function confirmFirst(confirm) {
    if (!confirm) return true;
    return new Promise((resolve) => {
      const root = $("dialog-root");
      const done = (v) => { root.replaceChildren(); resolve(v); };
      root.replaceChildren(h("div", { class: "overlay" },
        h("div", { class: "dialog", role: "dialog", "aria-modal": "true" },
          h("h3", null, plainString(confirm.title) || "Are you sure?"),
          h("div", { class: "dialog-body" }, textObj(confirm.text)),
          h("div", { class: "dialog-actions" },
            h("button", { class: "btn", type: "button", on: { click: () => done(false) } }, plainString(confirm.deny) || "Cancel"),
            h("button", { class: "btn " + (confirm.style === "danger" ? "danger" : "primary"), type: "button", on: { click: () => done(true) } }, plainString(confirm.confirm) || "Yes")))));
    });
  }

  function button(el, block, where) {
    const cls = "btn" + (el.style === "primary" ? " primary" : el.style === "danger" ? " danger" : "");
    const label = plainString(el.text);
    const b = h("button", { class: cls, type: "button", dataset: { actionId: el.action_id || "", blockId: block.block_id || "" } }, label);
    b.addEventListener("click", async () => {
      if (!(await confirmFirst(el.confirm))) return;
      const url = el.url && M.safeUrl(el.url);
      if (url) window.open(url, "_blank", "noopener,noreferrer");
      b.disabled = true;
      const r = await api("click", { text: (el.text || {}).text || "", action_id: el.action_id, block_id: block.block_id, container: where });
      b.disabled = false;
      if (!r.ok) toast(r.error);
    });
    return b;
  }

  function menu(el, block, where) {
    const sel = h("select", { class: "menu", dataset: { actionId: el.action_id || "", blockId: block.block_id || "" }, "aria-label": plainString(el.placeholder) || "Choose" });
    const initial = el.initial_option ? el.initial_option.value : "";
    sel.appendChild(h("option", { value: "", disabled: true, selected: !initial }, plainString(el.placeholder) || "Choose an option"));
    if (el.type === "static_select") {
      for (const g of el.option_groups || []) {
        const og = h("optgroup", { label: plainString(g.label) });
        for (const o of g.options || []) og.appendChild(h("option", { value: o.value, selected: o.value === initial }, plainString(o.text)));
        sel.appendChild(og);
      }
      for (const o of el.options || []) sel.appendChild(h("option", { value: o.value, selected: o.value === initial }, plainString(o.text)));
      sel.addEventListener("change", async () => {
        const opt = optionsOf(el).find((o) => o.value === sel.value);
        if (!(await confirmFirst(el.confirm))) return;
        const r = await api("select", { value: opt ? opt.value : sel.value, action_id: el.action_id, block_id: block.block_id, container: where });
        if (!r.ok) toast(r.error);
      });
    } else {
      sel.disabled = true;
      sel.title = `${el.type} menus are not simulated in the sandbox`;
    }
    return sel;
  }

  function element(el, block, where) {
    if (!el) return null;
    switch (el.type) {
      case "button": return button(el, block, where);
      case "static_select": case "overflow": case "external_select": case "users_select":
      case "conversations_select": case "channels_select": case "multi_static_select":
        return menu(el, block, where);
      case "image": return image(el.image_url, el.slack_file, el.alt_text, "accessory-image");
      case "datepicker": return h("span", { class: "pill" }, el.initial_date || plainString(el.placeholder) || "Pick a date");
      default: return h("span", { class: "pill muted" }, `[${el.type}]`);
    }
  }

  function image(url, slackFile, alt, cls) {
    let src = null;
    if (slackFile && (slackFile.id || slackFile.url)) src = slackFile.id ? `/files/${encodeURIComponent(slackFile.id)}` : M.safeUrl(slackFile.url);
    else if (url) src = M.safeUrl(url);
    if (!src) return h("span", { class: "pill muted" }, `[image: ${alt || ""}]`);
    return h("img", { class: cls, src, alt: alt || "" });
  }

  function richText(elements, parent) {
    for (const e of elements || []) {
      if (e.type === "rich_text_section") { const p = h("div"); richText(e.elements, p); parent.appendChild(p); }
      else if (e.type === "rich_text_preformatted") { const p = h("pre"); richText(e.elements, p); parent.appendChild(p); }
      else if (e.type === "rich_text_quote") { const p = h("blockquote"); richText(e.elements, p); parent.appendChild(p); }
      else if (e.type === "rich_text_list") {
        const list = h(e.style === "ordered" ? "ol" : "ul");
        for (const item of e.elements || []) { const li = h("li"); richText(item.elements, li); list.appendChild(li); }
        parent.appendChild(list);
      } else if (e.type === "text") {
        let node = document.createTextNode(e.text || "");
        const st = e.style || {};
        if (st.code) node = h("code", null, node);
        if (st.bold) node = h("strong", null, node);
        if (st.italic) node = h("em", null, node);
        if (st.strike) node = h("del", null, node);
        parent.appendChild(node);
      } else if (e.type === "link") {
        const url = M.safeUrl(e.url || "");
        parent.appendChild(url ? h("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, e.text || e.url) : document.createTextNode(e.text || e.url || ""));
      } else if (e.type === "user") parent.appendChild(h("span", { class: "mention" }, "@" + userName(e.user_id)));
      else if (e.type === "channel") parent.appendChild(h("span", { class: "mention" }, "#" + channelName(e.channel_id)));
      else if (e.type === "emoji") parent.appendChild(document.createTextNode(M.emojify(`:${e.name}:`)));
    }
  }

  function renderBlock(block, where, form) {
    switch (block.type) {
      case "header": return h("div", { class: "b-header" }, M.plain(block.text));
      case "section": {
        const body = h("div", { class: "b-section-body" });
        if (block.text) body.appendChild(textObj(block.text));
        if (block.fields && block.fields.length) body.appendChild(h("div", { class: "b-fields" }, block.fields.map((f) => h("div", { class: "b-field" }, textObj(f)))));
        const acc = block.accessory ? h("div", { class: "b-accessory" }, element(block.accessory, block, where)) : null;
        return h("div", { class: "b-section" }, body, acc);
      }
      case "divider": return h("hr", { class: "b-divider" });
      case "context": return h("div", { class: "b-context" }, (block.elements || []).map((e) =>
        e.type === "image" ? image(e.image_url, e.slack_file, e.alt_text, "context-image") : h("span", { class: "b-context-item" }, textObj(e))));
      case "actions": return h("div", { class: "b-actions" }, (block.elements || []).map((e) => element(e, block, where)));
      case "image": return h("figure", { class: "b-image" },
        block.title ? h("figcaption", null, M.plain(block.title)) : null,
        image(block.image_url, block.slack_file, block.alt_text, "block-image"));
      case "input": return form ? form(block) : h("div", { class: "pill muted" }, plainString(block.label));
      case "rich_text": { const d = h("div", { class: "b-rich" }); richText(block.elements, d); return d; }
      case "markdown": return h("div", { class: "b-markdown" }, block.text || "");
      default: return h("div", { class: "pill muted" }, `[${block.type} block]`);
    }
  }

  function renderBlocks(blocks, where, form) {
    return h("div", { class: "blocks" }, (blocks || []).map((b) => renderBlock(b, where, form)));
  }

  // ------------------------------------------------------------------ messages
  function messageNode(m, inThread) {
    const where = { type: "message", channel: m.channel, ts: m.ts };
    const who = m.is_bot ? "Handoff" : userName(m.user);
    const head = h("div", { class: "msg-head" },
      h("span", { class: "msg-author" }, who),
      m.is_bot ? h("span", { class: "badge" }, "APP") : null,
      h("span", { class: "msg-time", title: m.ts }, timeOf(m.ts)),
      m.edited ? h("span", { class: "msg-edited" }, "(edited)") : null);
    const body = h("div", { class: "msg-body" });
    if (m.blocks && m.blocks.length) body.appendChild(renderBlocks(m.blocks, where));
    else if (m.text) body.appendChild(m.mrkdwn === false ? h("div", null, m.text) : M.render(m.text, mctx));
    for (const f of m.files || []) {
      body.appendChild(f.is_image
        ? h("figure", { class: "file" }, h("img", { class: "file-image", src: f.url, alt: f.title || f.name || "" }), h("figcaption", null, f.title || f.name || ""))
        : h("a", { class: "file-link", href: f.url, download: "" }, `📎 ${f.title || f.name || "file"}`));
    }
    if (m.ephemeral) body.appendChild(h("div", { class: "only-you" }, "👁 Only visible to you"));
    if (!inThread && m.reply_count) {
      body.appendChild(h("button", { class: "replies", type: "button", on: { click: () => openThread(m.channel, m.ts) } },
        `${m.reply_count} ${m.reply_count === 1 ? "reply" : "replies"}`));
    }
    const actions = !m.ephemeral && !inThread
      ? h("button", { class: "reply-action", type: "button", title: "Reply in thread", on: { click: () => openThread(m.channel, m.ts) } }, "💬")
      : null;
    return h("article", { class: "msg" + (m.ephemeral ? " ephemeral" : ""), dataset: { ts: m.ts, channel: m.channel } },
      avatar(m.user, m.is_bot), h("div", { class: "msg-main" }, head, body), actions);
  }

  function keepScroll(container, fill) {
    const atBottom = container.scrollHeight - container.scrollTop - container.clientHeight < 40;
    const top = container.scrollTop;
    fill();
    container.scrollTop = atBottom ? container.scrollHeight : top;
  }

  function renderMessages() {
    const list = $("messages");
    const msgs = S.state.messages.filter((m) => m.channel === S.place && !m.is_reply);
    keepScroll(list, () => {
      list.replaceChildren(...(msgs.length ? msgs.map((m) => messageNode(m, false)) : [h("div", { class: "empty" }, "No messages yet.")]));
    });
    if (msgs.length) markSeen(S.place, msgs[msgs.length - 1].ts);
  }

  function renderThread() {
    const pane = $("thread");
    if (!S.thread) { pane.hidden = true; return; }
    const { channel: cid, ts } = S.thread;
    const parent = S.state.messages.find((m) => m.channel === cid && m.ts === ts);
    if (!parent) { S.thread = null; pane.hidden = true; return; }
    pane.hidden = false;
    const replies = S.state.messages.filter((m) => m.channel === cid && m.is_reply && m.thread_ts === ts);
    const list = $("thread-messages");
    keepScroll(list, () => {
      list.replaceChildren(messageNode(parent, true), h("div", { class: "thread-count" }, `${replies.length} ${replies.length === 1 ? "reply" : "replies"}`), ...replies.map((m) => messageNode(m, true)));
    });
  }

  function openThread(cid, ts) {
    S.thread = { channel: cid, ts };
    renderThread();
    $("thread-input").focus();
  }

  function markSeen(cid, ts) {
    const mine = (S.seen[S.user] = S.seen[S.user] || {});
    if (!mine[cid] || parseFloat(mine[cid]) < parseFloat(ts)) mine[cid] = ts;
  }

  function unread(cid) {
    const seen = (S.seen[S.user] || {})[cid];
    return S.state.messages.filter((m) => m.channel === cid && !m.is_reply && m.user !== S.user && (!seen || parseFloat(m.ts) > parseFloat(seen))).length;
  }

  // ------------------------------------------------------------------ sidebar
  function navItem(id, label, extra) {
    const count = id === "home" || id === S.place ? 0 : unread(id);
    return h("li", null, h("button", {
      class: "nav-item" + (S.place === id ? " active" : "") + (count ? " unread" : ""), type: "button",
      dataset: { nav: id }, on: { click: () => go(id) },
    }, label, extra || null, count ? h("span", { class: "count" }, String(count)) : null));
  }

  function renderSidebar() {
    const st = S.state;
    $("team-name").textContent = st.team.name;
    const us = $("user-select");
    if (us.options.length !== st.users.length - 1) {
      us.replaceChildren(...st.users.filter((u) => u.id !== st.bot_user_id).map((u) => h("option", { value: u.id }, `${u.real_name} — ${u.role}`)));
    }
    us.value = S.user;
    $("nav-apps").replaceChildren(navItem("home", "🏠 Handoff — Home"));
    $("nav-channels").replaceChildren(...st.channels.filter((c) => c.kind === "channel").map((c) =>
      navItem(c.id, `# ${c.name}`, c.is_member ? null : h("span", { class: "not-member" }, " (not a member)"))));
    $("nav-dms").replaceChildren(...st.channels.filter((c) => c.kind === "im").map((c) => navItem(c.id, "💬 Handoff", h("span", { class: "badge" }, "APP"))));
    const js = $("job-select");
    if (js.options.length !== st.jobs.length) js.replaceChildren(...st.jobs.map((j) => h("option", { value: j }, j)));
    $("composer-hint").textContent = st.commands.length ? `Commands: ${st.commands.join("  ")}` : "";
    renderCrm(st.crm || []);
  }

  // what the CRM sync wrote to the fake HubSpot and Salesforce (text nodes only: nothing is parsed)
  function renderCrm(crms) {
    $("crm-panel").replaceChildren(...crms.map((c) => h("details", { class: "crm", open: c.count > 0 },
      h("summary", null, `${c.crm}: ${c.count} ${c.kind}`),
      ...c.records.map((r) => h("div", { class: "crm-record", dataset: { crm: c.crm, record: r.id } },
        h("div", { class: "crm-title" }, r.title || r.id),
        h("div", { class: "crm-fields" }, Object.entries(r.fields).map(([k, v]) => `${k}: ${v}`).join(" · ")),
        ...r.activities.map((a) => h("div", { class: "crm-activity" }, a)))))));
  }

  // ------------------------------------------------------------------ home
  function renderHome() {
    const home = $("home");
    const view = S.state.home;
    if (!view) {
      const subscribed = S.state.events.includes("app_home_opened");
      home.replaceChildren(h("div", { class: "empty" }, subscribed ? "Opening Home…" : "This app has no Home tab yet."));
      return;
    }
    home.replaceChildren(renderBlocks(view.blocks, { type: "home" }));
  }

  // ------------------------------------------------------------------ modal
  function field(block, errors) {
    const el = block.element || {};
    const id = `in-${block.block_id}`;
    let control;
    const data = { block: block.block_id, kind: el.type };
    const ph = plainString(el.placeholder);
    switch (el.type) {
      case "plain_text_input":
        control = el.multiline
          ? h("textarea", { id, rows: 4, placeholder: ph, maxlength: el.max_length, dataset: data })
          : h("input", { id, type: "text", placeholder: ph, maxlength: el.max_length, dataset: data });
        if (el.initial_value) control.value = el.initial_value;
        break;
      case "email_text_input": case "url_text_input":
        control = h("input", { id, type: el.type === "email_text_input" ? "email" : "url", placeholder: ph, dataset: data });
        if (el.initial_value) control.value = el.initial_value;
        break;
      case "number_input":
        control = h("input", { id, type: "number", step: el.is_decimal_allowed ? "any" : "1", min: el.min_value, max: el.max_value, placeholder: ph, dataset: data });
        if (el.initial_value) control.value = el.initial_value;
        break;
      case "datepicker":
        control = h("input", { id, type: "date", dataset: data });
        if (el.initial_date) control.value = el.initial_date;
        break;
      case "timepicker":
        control = h("input", { id, type: "time", dataset: data });
        if (el.initial_time) control.value = el.initial_time;
        break;
      case "static_select": case "multi_static_select": case "users_select": case "multi_users_select":
      case "conversations_select": case "multi_conversations_select": case "channels_select": case "multi_channels_select": {
        const multi = el.type.startsWith("multi_");
        control = h("select", { id, multiple: multi, dataset: data });
        let opts;
        if (el.type.includes("users")) opts = S.state.users.filter((u) => u.id !== S.state.bot_user_id).map((u) => ({ value: u.id, label: u.real_name }));
        else if (el.type.includes("conversations") || el.type.includes("channels")) opts = S.state.channels.filter((c) => c.kind === "channel").map((c) => ({ value: c.id, label: "#" + c.name }));
        else opts = null;
        const initial = new Set([
          ...(el.initial_option ? [el.initial_option.value] : []), ...(el.initial_options || []).map((o) => o.value),
          ...[el.initial_user, el.initial_conversation, el.initial_channel].filter(Boolean),
          ...(el.initial_users || []), ...(el.initial_conversations || []), ...(el.initial_channels || []),
        ]);
        if (!multi) control.appendChild(h("option", { value: "", selected: initial.size === 0 }, ph || "Choose an option"));
        if (opts) for (const o of opts) control.appendChild(h("option", { value: o.value, selected: initial.has(o.value) }, o.label));
        else {
          for (const g of el.option_groups || []) {
            control.appendChild(h("optgroup", { label: plainString(g.label) }, (g.options || []).map((o) => h("option", { value: o.value, selected: initial.has(o.value) }, plainString(o.text)))));
          }
          for (const o of el.options || []) control.appendChild(h("option", { value: o.value, selected: initial.has(o.value) }, plainString(o.text)));
        }
        if (block.dispatch_action && el.type === "static_select") {
          control.addEventListener("change", async () => {
            if (!control.value) return;
            const r = await api("select", { value: control.value, action_id: el.action_id, block_id: block.block_id, container: { type: "view" } });
            if (!r.ok) toast(r.error);
          });
        }
        break;
      }
      case "radio_buttons": case "checkboxes": {
        const radio = el.type === "radio_buttons";
        const initial = new Set([...(el.initial_option ? [el.initial_option.value] : []), ...(el.initial_options || []).map((o) => o.value)]);
        control = h("div", { class: "choices", id, dataset: data }, (el.options || []).map((o) =>
          h("label", { class: "choice" },
            h("input", { type: radio ? "radio" : "checkbox", name: id, value: o.value, checked: initial.has(o.value) }),
            h("span", null, o.text && o.text.type === "mrkdwn" ? textObj(o.text) : plainString(o.text)),
            o.description ? h("span", { class: "hint" }, plainString(o.description)) : null)));
        break;
      }
      default:
        control = h("div", { class: "pill muted", dataset: data }, `[${el.type} is not simulated in the sandbox]`);
    }
    const err = (errors || {})[block.block_id];
    return h("div", { class: "field" + (err ? " has-error" : ""), dataset: { field: block.block_id } },
      h("label", { class: "field-label", for: id }, plainString(block.label), block.optional ? h("span", { class: "optional" }, " (optional)") : null),
      control,
      block.hint ? h("div", { class: "hint" }, plainString(block.hint)) : null,
      h("div", { class: "field-error", role: "alert" }, err || ""));
  }

  function readField(node) {
    const kind = node.dataset.kind;
    if (kind === "radio_buttons") { const c = node.querySelector("input:checked"); return c ? c.value : null; }
    if (kind === "checkboxes") return [...node.querySelectorAll("input:checked")].map((c) => c.value);
    if (node.tagName === "SELECT" && node.multiple) return [...node.selectedOptions].map((o) => o.value);
    const v = node.value;
    return v === "" || v === undefined ? null : v;
  }

  function clientErrors(view, values) {
    // what Slack's own client refuses before anything is sent
    const errors = {};
    for (const b of view.blocks || []) {
      if (b.type !== "input" || !(b.block_id in values)) continue;
      const v = values[b.block_id];
      const empty = v === null || (Array.isArray(v) && v.length === 0);
      const el = b.element || {};
      if (empty && !b.optional) errors[b.block_id] = "Please complete this required field.";
      else if (!empty && el.min_length && String(v).length < el.min_length) errors[b.block_id] = `Please enter at least ${el.min_length} characters.`;
      else if (!empty && el.type === "email_text_input" && !/^[^@\s]+@[^@\s]+$/.test(v)) errors[b.block_id] = "Please enter a valid email address.";
    }
    return errors;
  }

  function showErrors(errors) {
    for (const node of document.querySelectorAll("#modal-root .field")) {
      const msg = (errors || {})[node.dataset.field] || "";
      node.classList.toggle("has-error", !!msg);
      node.querySelector(".field-error").textContent = msg;
    }
  }

  function renderModal() {
    const root = $("modal-root");
    const modal = S.state.modal;
    if (!modal) { root.replaceChildren(); S.modalKey = null; return; }
    const view = modal.view;
    const key = `${S.user}:${view.id}:${view.hash}`;
    if (key === S.modalKey) { showErrors(modal.errors); return; } // keep what the person typed
    S.modalKey = key;
    const form = h("form", { class: "modal", role: "dialog", "aria-modal": "true", "aria-label": plainString(view.title), novalidate: true });
    const body = renderBlocks(view.blocks, { type: "view" }, (b) => field(b, modal.errors));
    const error = h("div", { class: "modal-error", role: "alert" });
    const close = async () => { await api("close", { view_id: view.id }); };
    form.append(
      h("header", { class: "modal-head" }, h("h2", null, plainString(view.title)), h("button", { class: "icon", type: "button", "aria-label": "Close", on: { click: close } }, "×")),
      h("div", { class: "modal-body" }, body, error),
      h("footer", { class: "modal-foot" },
        h("button", { class: "btn", type: "button", on: { click: close } }, plainString(view.close) || "Cancel"),
        view.submit ? h("button", { class: "btn primary", type: "submit" }, plainString(view.submit)) : null));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const values = {};
      for (const node of form.querySelectorAll("[data-block][data-kind]")) values[node.dataset.block] = readField(node);
      const local = clientErrors(view, values);
      if (Object.keys(local).length) { showErrors(local); return; }
      const btn = form.querySelector("button[type=submit]");
      btn.disabled = true;
      const r = await api("submit", { view_id: view.id, values });
      btn.disabled = false;
      error.textContent = r.ok ? "" : r.error;
      if (r.ok) showErrors(r.errors);
    });
    root.replaceChildren(h("div", { class: "overlay" }, form));
    const first = form.querySelector("input, textarea, select");
    if (first) first.focus();
  }

  // ------------------------------------------------------------------ page
  function render() {
    if (!S.state) return;
    if (S.place !== "home" && !channel(S.place)) S.place = "home";
    renderSidebar();
    const isHome = S.place === "home";
    $("home").hidden = !isHome;
    $("messages").hidden = isHome;
    $("composer").hidden = isHome;
    if (isHome) {
      $("title").textContent = "Handoff";
      $("subtitle").textContent = "Home";
      renderHome();
    } else {
      const c = channel(S.place);
      $("title").textContent = c.kind === "im" ? "Handoff" : `# ${c.name}`;
      $("subtitle").textContent = c.kind === "im" ? "Messages with the app" : c.is_member ? "" : "You are not a member of this channel";
      renderMessages();
    }
    renderThread();
    renderModal();
  }

  function go(place) {
    S.place = place;
    S.thread = null;
    localStorage.setItem("sandbox.place", place);
    $("composer-error").textContent = "";
    render();
    const c = S.state && channel(place);
    if (place === "home") api("open", { tab: "home" });
    else if (c && c.kind === "im") api("open", { tab: "messages" });
  }

  async function send(input, errorBox, threadTs) {
    const text = input.value.trim();
    if (!text) return;
    const cid = threadTs ? S.thread.channel : S.place;
    errorBox.textContent = "";
    const r = text.startsWith("/")
      ? await api("command", { channel: cid, text })
      : await api("message", { channel: cid, text, thread_ts: threadTs || null });
    if (r.ok) input.value = "";
    else errorBox.textContent = r.error;
  }

  function init() {
    $("user-select").addEventListener("change", (ev) => {
      S.user = ev.target.value;
      localStorage.setItem("sandbox.user", S.user);
      S.etag = null;
      S.modalKey = null;
      S.thread = null;
      poll().then(() => { if (S.place === "home") api("open", { tab: "home" }); });
    });
    $("composer").addEventListener("submit", (ev) => { ev.preventDefault(); send($("composer-input"), $("composer-error"), null); });
    $("thread-composer").addEventListener("submit", (ev) => { ev.preventDefault(); send($("thread-input"), $("thread-error"), S.thread && S.thread.ts); });
    $("thread-close").addEventListener("click", () => { S.thread = null; renderThread(); });
    $("job-run").addEventListener("click", async () => {
      const name = $("job-select").value;
      const r = await api("job", { name });
      toast(r.ok ? `Ran ${name}` : r.error);
    });
    document.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape" && S.state && S.state.modal) api("close", { view_id: S.state.modal.view.id });
    });
    poll().then(() => { if (S.place === "home") api("open", { tab: "home" }); });
  }

  document.addEventListener("DOMContentLoaded", init);
})();
