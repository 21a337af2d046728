/* Slack mrkdwn → DOM, safely: every piece of text becomes a text node (never HTML), the bot's
   &lt; &gt; &amp; entities are shown as the characters, and only http(s)/mailto links are links. */
(function () {
  "use strict";

  const EMOJI = {
    fire: "🔥", white_check_mark: "✅", heavy_check_mark: "✔️", x: "❌", repeat: "🔁", tada: "🎉",
    wave: "👋", warning: "⚠️", hourglass: "⌛", hourglass_flowing_sand: "⏳", bell: "🔔",
    speech_balloon: "💬", trophy: "🏆", chart_with_upwards_trend: "📈", chart_with_downwards_trend: "📉",
    bar_chart: "📊", dart: "🎯", rocket: "🚀", star: "⭐", bulb: "💡", memo: "📝", email: "📧",
    envelope: "✉️", phone: "📞", calendar: "📅", date: "📅", clock1: "🕐", alarm_clock: "⏰",
    handshake: "🤝", moneybag: "💰", money_with_wings: "💸", thumbsup: "👍", "+1": "👍",
    thumbsdown: "👎", "-1": "👎", eyes: "👀", raised_hands: "🙌", pray: "🙏", point_right: "👉",
    arrow_right: "➡️", arrow_up: "⬆️", arrow_down: "⬇️", new: "🆕", inbox_tray: "📥",
    outbox_tray: "📤", package: "📦", mag: "🔍", link: "🔗", lock: "🔒", question: "❓",
    exclamation: "❗", information_source: "ℹ️", no_entry: "⛔", no_entry_sign: "🚫",
    red_circle: "🔴", large_green_circle: "🟢", large_yellow_circle: "🟡", large_blue_circle: "🔵",
    white_circle: "⚪", black_circle: "⚫", sparkles: "✨", zap: "⚡", seedling: "🌱",
    snail: "🐌", turtle: "🐢", hammer_and_wrench: "🛠️", gear: "⚙️", busts_in_silhouette: "👥",
    bust_in_silhouette: "👤", crown: "👑", medal: "🏅", first_place_medal: "🥇", clipboard: "📋",
    pushpin: "📌", round_pushpin: "📍", ok_hand: "👌", muscle: "💪", thinking_face: "🤔",
    slightly_smiling_face: "🙂", smile: "😄", confused: "😕", rotating_light: "🚨",
    recycle: "♻️", leftwards_arrow_with_hook: "↩️", arrows_counterclockwise: "🔄",
    chart: "💹", heavy_plus_sign: "➕", heavy_minus_sign: "➖", label: "🏷️", trash: "🗑️",
    wastebasket: "🗑️", sunny: "☀️", sleeping: "😴", palm_tree: "🌴", headphones: "🎧",
    calling: "📲", raising_hand: "🙋", heavy_multiplication_x: "✖️", stopwatch: "⏱️",
    grey_question: "❔", grey_exclamation: "❕", speaking_head_in_silhouette: "🗣️", mega: "📣", loudspeaker: "📢",
  };

  function decode(s) {
    return String(s).replace(/&(lt|gt|amp);/g, (m, e) => (e === "lt" ? "<" : e === "gt" ? ">" : "&"));
  }

  function emojify(s) {
    return String(s).replace(/:([a-z0-9_+\-]+):/g, (m, name) => EMOJI[name] || m);
  }

  function text(s) {
    return document.createTextNode(emojify(decode(s)));
  }

  function el(tag, cls, children) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    for (const c of children || []) node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    return node;
  }

  function safeUrl(url) {
    const u = String(url).trim();
    return /^(https?:\/\/|mailto:)/i.test(u) ? u : null;
  }

  function ordinal(n) {
    const s = ["th", "st", "nd", "rd"], v = n % 100;
    return n + (s[(v - 20) % 10] || s[v] || s[0]);
  }

  function formatDate(epoch, fmt, fallback) {
    const d = new Date(epoch * 1000);
    if (isNaN(d.getTime())) return fallback;
    const month = (style) => d.toLocaleDateString("en-US", { month: style });
    const weekday = d.toLocaleDateString("en-US", { weekday: "long" });
    const today = new Date();
    const dayDiff = Math.round((new Date(d.getFullYear(), d.getMonth(), d.getDate()) -
      new Date(today.getFullYear(), today.getMonth(), today.getDate())) / 86400000);
    const pretty = (plain) => (dayDiff === 0 ? "today" : dayDiff === -1 ? "yesterday" : dayDiff === 1 ? "tomorrow" : plain);
    const pad = (n) => String(n).padStart(2, "0");
    const parts = {
      date_num: `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`,
      date: `${month("long")} ${ordinal(d.getDate())}, ${d.getFullYear()}`,
      date_short: `${month("short")} ${d.getDate()}, ${d.getFullYear()}`,
      date_long: `${weekday}, ${month("long")} ${ordinal(d.getDate())}, ${d.getFullYear()}`,
      time: d.toLocaleTimeString("en-US", { hour: "numeric", minute: "2-digit" }),
      time_secs: d.toLocaleTimeString("en-US", { hour: "numeric", minute: "2-digit", second: "2-digit" }),
    };
    parts.date_pretty = pretty(parts.date);
    parts.date_short_pretty = pretty(parts.date_short);
    parts.date_long_pretty = pretty(parts.date_long);
    const secs = Math.round((Date.now() - d.getTime()) / 1000);
    const abs = Math.abs(secs);
    const unit = abs < 3600 ? [Math.round(abs / 60), "minute"] : abs < 86400 ? [Math.round(abs / 3600), "hour"] : [Math.round(abs / 86400), "day"];
    const amount = `${unit[0]} ${unit[1]}${unit[0] === 1 ? "" : "s"}`;
    parts.ago = secs >= 0 ? `${amount} ago` : `in ${amount}`;
    let unknown = false;
    const out = fmt.replace(/\{([a-z_]+)\}/g, (m, k) => {
      if (k in parts) return parts[k];
      unknown = true;
      return m;
    });
    return unknown ? fallback : out;
  }

  function angle(content, ctx) {
    const bar = content.indexOf("|");
    const head = bar >= 0 ? content.slice(0, bar) : content;
    const label = bar >= 0 ? content.slice(bar + 1) : "";
    if (head.startsWith("@")) {
      const id = head.slice(1);
      const name = label || (ctx.userName ? ctx.userName(id) : id);
      const node = el("span", "mention", [text("@" + decode(name).replace(/^@/, ""))]);
      node.dataset.user = id;
      return node;
    }
    if (head.startsWith("#")) {
      const id = head.slice(1);
      const name = label || (ctx.channelName ? ctx.channelName(id) : id);
      return el("span", "mention", [text("#" + decode(name).replace(/^#/, ""))]);
    }
    if (head.startsWith("!")) {
      const parts = head.slice(1).split("^");
      const kind = parts[0];
      if (kind === "here" || kind === "channel" || kind === "everyone") return el("span", "mention", ["@" + kind]);
      if (kind === "subteam") return el("span", "mention", [text(label || "@group")]);
      if (kind === "date") {
        const shown = formatDate(Number(parts[1]), decode(parts[2] || ""), decode(label));
        const url = parts[3] ? safeUrl(decode(parts[3])) : null;
        return url ? link(url, shown) : el("span", "date", [emojify(shown)]);
      }
      return text(label || head);
    }
    const url = decode(head);
    const safe = safeUrl(url);
    const shown = label ? decode(label) : url.replace(/^mailto:/i, "");
    return safe ? link(safe, shown) : document.createTextNode(emojify(shown));
  }

  function link(url, shown) {
    const a = el("a", null, [emojify(shown)]);
    a.setAttribute("href", url);
    a.setAttribute("target", "_blank");
    a.setAttribute("rel", "noopener noreferrer");
    return a;
  }

  const INLINE = [
    { kind: "angle", re: /<([^<>\n]*)>/ },
    { kind: "code", re: /`([^`\n]+)`/ },
    { kind: "b", re: /(?<![A-Za-z0-9*])\*(?=\S)([^*\n]*?\S)\*(?![A-Za-z0-9*])/ },
    { kind: "i", re: /(?<![A-Za-z0-9_])_(?=\S)([^_\n]*?\S)_(?![A-Za-z0-9_])/ },
    { kind: "s", re: /(?<![A-Za-z0-9~])~(?=\S)([^~\n]*?\S)~(?![A-Za-z0-9~])/ },
  ];

  function inline(src, parent, ctx) {
    let rest = src;
    while (rest) {
      let best = null;
      for (const rule of INLINE) {
        const m = rule.re.exec(rest);
        if (m && (best === null || m.index < best.m.index)) best = { rule, m };
      }
      if (best === null) {
        parent.appendChild(text(rest));
        return;
      }
      if (best.m.index > 0) parent.appendChild(text(rest.slice(0, best.m.index)));
      const inner = best.m[1];
      if (best.rule.kind === "angle") parent.appendChild(angle(inner, ctx));
      else if (best.rule.kind === "code") parent.appendChild(el("code", null, [decode(inner)]));
      else {
        const node = el(best.rule.kind === "s" ? "del" : best.rule.kind === "b" ? "strong" : "em");
        inline(inner, node, ctx);
        parent.appendChild(node);
      }
      rest = rest.slice(best.m.index + best.m[0].length);
    }
  }

  function lines(src, parent, ctx) {
    const rows = src.split("\n");
    let quote = null;
    rows.forEach((row, i) => {
      const q = /^(?:&gt;|>)\s?(.*)$/.exec(row);
      if (q) {
        if (quote === null) {
          quote = el("blockquote");
          parent.appendChild(quote);
        } else quote.appendChild(el("br"));
        inline(q[1], quote, ctx);
        return;
      }
      quote = null;
      inline(row, parent, ctx);
      if (i < rows.length - 1 && !(rows[i + 1] && /^(?:&gt;|>)/.test(rows[i + 1]))) parent.appendChild(el("br"));
    });
  }

  /** mrkdwn text → a <div class="mrkdwn"> */
  function render(src, ctx) {
    const root = el("div", "mrkdwn");
    const s = String(src == null ? "" : src);
    const fence = /```([\s\S]*?)```/g;
    let last = 0, m;
    while ((m = fence.exec(s)) !== null) {
      if (m.index > last) lines(s.slice(last, m.index), root, ctx || {});
      root.appendChild(el("pre", null, [decode(m[1].replace(/^\n/, ""))]));
      last = m.index + m[0].length;
    }
    if (last < s.length) lines(s.slice(last), root, ctx || {});
    return root;
  }

  /** a plain_text object → a text node (Slack shows it literally; emoji when asked) */
  function plain(obj) {
    if (obj == null) return document.createTextNode("");
    if (typeof obj === "string") return document.createTextNode(obj);
    const t = String(obj.text || "");
    return document.createTextNode(obj.emoji === false ? t : emojify(t));
  }

  window.Mrkdwn = { render, plain, emojify, decode, safeUrl, formatDate };
})();
