// The stand-in's live page: polls /_sandbox/state, draws the workspace as the chosen person sees it and,
// in interactive mode, clicks and submits as that person through POST /_sandbox/act.
// Every text from the workspace goes into the DOM as text nodes (never as HTML), so nothing it holds runs.
"use strict";
(() => {
  const POLL_MS = 700;
  const STATE_URL = "/_sandbox/state";
  const ACT_URL = "/_sandbox/act";
  const SYSTEM = new Set([
    "channel_join", "channel_leave", "channel_topic", "channel_purpose", "channel_name",
    "channel_archive", "channel_unarchive", "group_join", "group_leave", "group_topic", "group_purpose",
    "pinned_item", "bot_add", "bot_remove",
  ]);
  const EMOJI = {
    white_check_mark: "✅", heavy_check_mark: "✔️", x: "❌", warning: "⚠️", rotating_light: "🚨", fire: "🔥",
    eyes: "👀", pushpin: "📌", hourglass: "⌛", hourglass_flowing_sand: "⏳", red_circle: "🔴",
    large_green_circle: "🟢", large_yellow_circle: "🟡", large_orange_circle: "🟠", large_blue_circle: "🔵",
    white_circle: "⚪", black_circle: "⚫", question: "❓", grey_question: "❔", exclamation: "❗",
    bell: "🔔", no_bell: "🔕", tada: "🎉", thumbsup: "👍", "+1": "👍", thumbsdown: "👎", "-1": "👎",
    wave: "👋", memo: "📝", mag: "🔍", link: "🔗", clock3: "🕒", alarm_clock: "⏰", zzz: "💤",
    robot_face: "🤖", bar_chart: "📊", chart_with_upwards_trend: "📈", package: "📦", gear: "⚙️",
    lock: "🔒", no_entry: "⛔", sos: "🆘", arrow_right: "➡️", handshake: "🤝", scales: "⚖️",
    information_source: "ℹ️", bulb: "💡", construction: "🚧", repeat: "🔁", rocket: "🚀",
  };

  const S = {
    data: null, version: null, me: null, channel: null,
    users: new Map(), channels: new Map(), groups: new Map(),
    expanded: new Set(), seen: new Map(), modalKey: null, lastChannel: null,
    // The channel the address names (?channel=<name or id>): shown as soon as it exists, even when it is
    // made after the page was opened (the demo links to an incident channel), until a channel is clicked.
    wanted: new URLSearchParams(location.search).get("channel"),
  };
  const $ = (id) => document.getElementById(id);
  let uid = 0;

  // ---- DOM -----------------------------------------------------------------------------------------
  function h(tag, props, ...kids) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else if (key === "data") Object.assign(node.dataset, value);
      else if (value === true) node.setAttribute(key, "");
      else node.setAttribute(key, String(value));
    }
    for (const kid of kids.flat(Infinity)) {
      if (kid === null || kid === undefined || kid === false) continue;
      node.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
    }
    return node;
  }

  // Replace a node's children (arrays flattened, null/false left out), as h() builds them.
  function put(node, ...kids) {
    node.replaceChildren(...h("div", {}, kids).childNodes);
  }

  function safeUrl(url) {
    return typeof url === "string" && /^(https?:|mailto:)/i.test(url.trim()) ? url.trim() : null;
  }

  function tsCmp(a, b) {
    const [ai, af = ""] = String(a).split(".");
    const [bi, bf = ""] = String(b).split(".");
    return Number(ai) - Number(bi) || af.padEnd(6, "0").localeCompare(bf.padEnd(6, "0"));
  }

  function when(ts) {
    const d = new Date(Number(String(ts).split(".")[0]) * 1000);
    return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  function userName(id) {
    const u = S.users.get(id);
    return u ? u.real_name || u.display_name || u.name : id;
  }

  function colour(id) {
    let n = 0;
    for (const ch of String(id)) n = (n * 31 + ch.charCodeAt(0)) % 360;
    return `hsl(${n}, 45%, 42%)`;
  }

  // ---- mrkdwn: ```pre```, `code`, <special|links>, *bold* _italic_ ~strike~, :emoji:, line breaks ------
  const emojify = (text) => text.replace(/:([a-z0-9_+-]+):/g, (m, name) => EMOJI[name] || m);
  const decode = (text) => text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");

  function mrkdwn(text) {
    const box = h("span", { class: "mrkdwn" });
    const parts = String(text || "").split("```");
    parts.forEach((part, i) => {
      if (i % 2 === 1 && i < parts.length - 1) box.append(h("pre", { text: decode(part.replace(/^\n/, "")) }));
      else box.append(...codeSpans(i % 2 === 1 ? "```" + part : i > 0 ? part.replace(/^\n/, "") : part));
    });
    return box;
  }

  function codeSpans(text) {
    const out = [];
    const parts = text.split(/`([^`\n]+)`/);
    parts.forEach((part, i) => out.push(...(i % 2 ? [h("code", { text: decode(part) })] : inline(part))));
    return out;
  }

  // <specials> become placeholders first, so *bold* and _italic_ may span a mention or a link.
  const MARK = /\uE000(\d+)\uE001/;
  function inline(text) {
    const found = [];
    const marked = text.replace(/[\uE000\uE001]/g, "")
      .replace(/<([^<>\n]+)>/g, (m, inner) => `\uE000${found.push(inner) - 1}\uE001`);
    return styled(marked, found);
  }

  function leaf(text, found) {
    return text.split(MARK).map((part, i) => (i % 2 ? special(found[Number(part)])
      : document.createTextNode(emojify(decode(part))))).filter((n) => n.textContent !== "" || n.nodeType !== 3);
  }

  function special(inner) {
    const bar = inner.indexOf("|");
    const target = bar < 0 ? inner : inner.slice(0, bar);
    const label = bar < 0 ? "" : decode(inner.slice(bar + 1));
    const mention = (text) => h("span", { class: "mention", text });
    if (/^@[UW]/.test(target)) return mention("@" + (label || userName(target.slice(1))));
    if (target.startsWith("#C") || target.startsWith("#G") || target.startsWith("#D")) {
      const ch = S.channels.get(target.slice(1));
      return mention("#" + (label || (ch && ch.name) || target.slice(1)));
    }
    if (target.startsWith("!subteam^")) {
      const g = S.groups.get(target.slice(9));
      return mention(label || "@" + (g ? g.handle : target.slice(9)));
    }
    if (/^!(here|channel|everyone)$/.test(target)) return mention("@" + target.slice(1));
    if (target.startsWith("!date^")) return document.createTextNode(label || target);
    const url = safeUrl(decode(target));
    if (url) return h("a", { href: url, target: "_blank", rel: "noopener noreferrer", text: label || url });
    return document.createTextNode("<" + decode(inner) + ">");
  }

  const STYLE = /(^|[^A-Za-z0-9*_~])([*_~])(\S(?:[^\n]*?\S)?)\2(?![A-Za-z0-9])/;
  const TAGS = { "*": "b", _: "i", "~": "s" };

  function styled(text, found) {
    const out = [];
    let rest = text;
    for (let m = STYLE.exec(rest); m; m = STYLE.exec(rest)) {
      out.push(...leaf(rest.slice(0, m.index) + m[1], found));
      out.push(h(TAGS[m[2]], {}, styled(m[3], found)));
      rest = rest.slice(m.index + m[0].length);
    }
    out.push(...leaf(rest, found));
    return out;
  }

  function textObj(obj) {
    if (!obj || typeof obj !== "object") return null;
    if (obj.type === "mrkdwn") return mrkdwn(obj.text);
    const text = String(obj.text || "");
    return h("span", { class: "plain", text: obj.emoji === false ? text : emojify(text) });
  }

  const plainText = (obj) => (obj && typeof obj === "object" ? String(obj.text || "") : "");

  // ---- rich_text --------------------------------------------------------------------------------------
  function richInline(els) {
    return (els || []).map((e) => {
      let node;
      if (e.type === "text") node = document.createTextNode(e.text || "");
      else if (e.type === "link") {
        const url = safeUrl(e.url);
        node = url ? h("a", { href: url, target: "_blank", rel: "noopener noreferrer", text: e.text || url })
          : document.createTextNode(e.text || e.url || "");
      } else if (e.type === "user") node = h("span", { class: "mention", text: "@" + userName(e.user_id) });
      else if (e.type === "usergroup") {
        const g = S.groups.get(e.usergroup_id);
        node = h("span", { class: "mention", text: "@" + (g ? g.handle : e.usergroup_id) });
      } else if (e.type === "channel") {
        const ch = S.channels.get(e.channel_id);
        node = h("span", { class: "mention", text: "#" + (ch ? ch.name : e.channel_id) });
      } else if (e.type === "emoji") node = document.createTextNode(EMOJI[e.name] || `:${e.name}:`);
      else if (e.type === "broadcast") node = h("span", { class: "mention", text: "@" + e.range });
      else node = document.createTextNode(e.fallback || e.text || "");
      const style = e.style || {};
      for (const [key, tag] of [["code", "code"], ["bold", "b"], ["italic", "i"], ["strike", "s"]]) {
        if (style[key]) node = h(tag, {}, node);
      }
      return node;
    });
  }

  function richText(block) {
    const box = h("div", { class: "b-rich plain" });
    for (const part of block.elements || []) {
      if (part.type === "rich_text_section") box.append(h("div", {}, richInline(part.elements)));
      else if (part.type === "rich_text_preformatted") box.append(h("pre", {}, richInline(part.elements)));
      else if (part.type === "rich_text_quote") box.append(h("blockquote", {}, richInline(part.elements)));
      else if (part.type === "rich_text_list") {
        const items = (part.elements || []).map((s) => h("li", {}, richInline(s.elements)));
        box.append(h(part.style === "ordered" ? "ol" : "ul", {}, items));
      }
    }
    return box;
  }

  // ---- Block Kit ---------------------------------------------------------------------------------------
  function image(url, alt, cls) {
    const src = safeUrl(url);
    return src ? h("img", { src, alt: alt || "", class: cls, loading: "lazy", referrerpolicy: "no-referrer" })
      : h("span", { class: "b-unknown", text: `[image${alt ? ": " + alt : ""}]` });
  }

  function blocks(list, ctx) {
    return h("div", { class: "blocks" }, (list || []).map((b) => block(b, ctx)));
  }

  function block(b, ctx) {
    switch (b.type) {
      case "header":
        return h("div", { class: "b-header" }, textObj(b.text));
      case "section":
        return h("div", { class: "b-section", data: { blockId: b.block_id || "" } },
          h("div", { class: "b-section-body" },
            b.text ? textObj(b.text) : null,
            b.fields ? h("div", { class: "b-fields" }, b.fields.map((f) => h("div", { class: "b-field" }, textObj(f)))) : null),
          b.accessory ? h("div", { class: "b-accessory" }, element(b.accessory, b, ctx)) : null);
      case "context":
        return h("div", { class: "b-context" },
          (b.elements || []).map((e) => (e.type === "image" ? image(e.image_url, e.alt_text) : textObj(e))));
      case "divider":
        return h("hr", { class: "b-divider" });
      case "actions":
        return h("div", { class: "b-actions", data: { blockId: b.block_id || "" } },
          (b.elements || []).map((e) => element(e, b, ctx)));
      case "image":
        return h("figure", { class: "b-image" },
          b.title ? h("figcaption", {}, textObj(b.title)) : null, image(b.image_url, b.alt_text));
      case "rich_text":
        return richText(b);
      case "input":
        return ctx.kind === "view" ? field(b, ctx) : h("div", { class: "b-unknown", text: "[input]" });
      default:
        return h("div", { class: "b-unknown", text: `[${b.type} block]` });
    }
  }

  function options(el) {
    const out = [...(el.options || [])];
    for (const group of el.option_groups || []) out.push(...(group.options || []));
    return out;
  }

  const canAct = () => Boolean(S.data && S.data.web_actions && S.me);
  const where = (ctx) => (ctx.kind === "view" ? { view_id: ctx.viewId } : { channel: ctx.channel, message_ts: ctx.ts });

  function confirmed(el) {
    const c = el.confirm;
    if (!c) return true;
    return window.confirm([plainText(c.title), plainText(c.text)].filter(Boolean).join("\n\n"));
  }

  function click(el, b, ctx, value) {
    if (!confirmed(el)) return;
    const url = safeUrl(el.url);  // a link button opens its page and still tells the app
    if (url) window.open(url, "_blank", "noopener");
    act({ kind: "click", ...where(ctx), block_id: b.block_id, action_id: el.action_id, value }, ctx.report);
  }

  function pick(el, b, ctx, value) {
    act({ kind: "select", ...where(ctx), block_id: b.block_id, action_id: el.action_id, value }, ctx.report);
  }

  function element(el, b, ctx) {
    const off = !canAct();
    const choice = (label, opts, onpick, initial) => h("select",
      { class: "menu", disabled: off, "aria-label": label, onchange: (ev) => onpick(ev.target) },
      h("option", { value: "", disabled: true, selected: !initial, text: label }),
      opts);
    switch (el.type) {
      case "button": {
        const url = safeUrl(el.url);
        return h("button", {
          class: `btn ${el.style || ""}`.trim(), disabled: off, type: "button",
          data: { actionId: el.action_id || "" },
          onclick: () => click(el, b, ctx, el.value),
        }, plainText(el.text), url ? " ↗" : "");
      }
      case "overflow":
      case "static_select": {
        const init = el.initial_option && el.initial_option.value;
        const label = el.type === "overflow" ? "⋯" : plainText(el.placeholder) || "Select an item";
        const opts = options(el).map((o) => h("option", { value: o.value, selected: o.value === init, text: plainText(o.text) }));
        return choice(label, opts, (sel) => {
          click(el, b, ctx, sel.value);
          if (el.type === "overflow") sel.selectedIndex = 0;
        }, init);
      }
      case "radio_buttons":
      case "checkboxes":
      case "multi_static_select": {
        const name = `c${++uid}`;
        const chosen = new Set([el.initial_option, ...(el.initial_options || [])].filter(Boolean).map((o) => o.value));
        const type = el.type === "radio_buttons" ? "radio" : "checkbox";
        return h("div", { class: "choices" }, options(el).map((o) => h("label", {},
          h("input", { type, name, value: o.value, checked: chosen.has(o.value), disabled: off,
            onchange: () => click(el, b, ctx, o.value) }),
          " ", plainText(o.text))));
      }
      case "users_select":
      case "conversations_select":
      case "channels_select": {
        const list = el.type === "users_select" ? userOptions(el.initial_user) : channelOptions(el, el.initial_conversation || el.initial_channel);
        const label = plainText(el.placeholder) || (el.type === "users_select" ? "Select a person" : "Select a channel");
        return choice(label, list, (sel) => pick(el, b, ctx, sel.value), el.initial_user || el.initial_conversation || el.initial_channel);
      }
      case "datepicker":
      case "timepicker":
        return h("input", {
          type: el.type === "datepicker" ? "date" : "time", class: "menu", disabled: off,
          value: el.initial_date || el.initial_time || "", onchange: (ev) => ev.target.value && pick(el, b, ctx, ev.target.value),
        });
      case "image":
        return image(el.image_url, el.alt_text, "accessory-img");
      default:
        return h("span", { class: "b-unknown", text: `[${el.type}]` });
    }
  }

  function userOptions(selected) {
    const chosen = new Set([].concat(selected || []));
    return [...S.users.values()].filter((u) => !u.deleted)
      .map((u) => h("option", { value: u.id, selected: chosen.has(u.id), text: userName(u.id) + (u.is_bot ? " (app)" : "") }));
  }

  function channelOptions(el, selected) {
    const chosen = new Set([].concat(selected || []));
    const publicOnly = /channels_select$/.test(el.type);
    return [...S.channels.values()]
      .filter((c) => !c.is_im && !c.is_archived && (!publicOnly || !c.is_private))
      .filter((c) => !c.is_private || c.members.includes(S.me))
      .map((c) => h("option", { value: c.id, selected: chosen.has(c.id), text: (c.is_private ? "🔒 " : "#") + c.name }));
  }

  // ---- modal inputs --------------------------------------------------------------------------------------
  function field(b, ctx) {
    const el = b.element || {};
    const entered = ((ctx.state || {})[b.block_id] || {})[el.action_id] || null;
    const id = `f${++uid}`;
    const label = [plainText(b.label), b.optional ? h("span", { class: "optional", text: " (optional)" }) : null];
    const control = input(el, id, entered);
    const group = control.tagName === "FIELDSET";
    if (group) control.prepend(h("legend", {}, label));
    return h("div", { class: "field", data: { blockId: b.block_id, type: el.type } },
      group ? null : h("label", { for: id }, label),
      control,
      b.hint ? h("div", { class: "hint" }, textObj(b.hint)) : null,
      h("div", { class: "error", role: "alert" }));
  }

  function input(el, id, entered) {
    const st = entered || {};
    const one = (key, init) => (key in st ? st[key] : init);
    const optionList = (chosen) => options(el).map((o) => h("option", { value: o.value, selected: chosen.has(o.value), text: plainText(o.text) }));
    const placeholder = (label, none) => h("option", { value: "", disabled: true, selected: none, text: plainText(el.placeholder) || label });
    switch (el.type) {
      case "plain_text_input":
      case "email_text_input":
      case "url_text_input":
      case "number_input": {
        const value = one("value", el.initial_value) || "";
        const ph = plainText(el.placeholder) || null;
        if (el.multiline) return h("textarea", { id, placeholder: ph, text: value });
        const type = { email_text_input: "email", url_text_input: "url" }[el.type] || "text";
        return h("input", { id, type, value, placeholder: ph, inputmode: el.type === "number_input" ? "decimal" : null });
      }
      case "static_select": {
        const init = one("selected_option", el.initial_option);
        return h("select", { id }, placeholder("Select an item", !init), optionList(new Set(init ? [init.value] : [])));
      }
      case "multi_static_select": {
        const init = one("selected_options", el.initial_options) || [];
        return h("select", { id, multiple: true }, optionList(new Set(init.map((o) => o.value))));
      }
      case "radio_buttons":
      case "checkboxes": {
        const init = el.type === "radio_buttons" ? [one("selected_option", el.initial_option)] : one("selected_options", el.initial_options) || [];
        const chosen = new Set(init.filter(Boolean).map((o) => o.value));
        const type = el.type === "radio_buttons" ? "radio" : "checkbox";
        return h("fieldset", { id }, options(el).map((o) => h("label", { class: "choice" },
          h("input", { type, name: id, value: o.value, checked: chosen.has(o.value) }), " ", plainText(o.text))));
      }
      case "users_select":
      case "multi_users_select": {
        const multi = el.type.startsWith("multi_");
        const init = multi ? one("selected_users", el.initial_users) : one("selected_user", el.initial_user);
        return h("select", { id, multiple: multi }, multi ? null : placeholder("Select a person", !init), userOptions(init));
      }
      case "conversations_select":
      case "channels_select":
      case "multi_conversations_select":
      case "multi_channels_select": {
        const multi = el.type.startsWith("multi_");
        const key = el.type.includes("conversations") ? "conversation" : "channel";
        const init = multi ? one(`selected_${key}s`, el[`initial_${key}s`]) : one(`selected_${key}`, el[`initial_${key}`]);
        return h("select", { id, multiple: multi }, multi ? null : placeholder("Select a channel", !init), channelOptions(el, init));
      }
      case "datepicker":
        return h("input", { id, type: "date", value: one("selected_date", el.initial_date) || "" });
      case "timepicker":
        return h("input", { id, type: "time", value: one("selected_time", el.initial_time) || "" });
      default:
        return h("input", { id, type: "text", disabled: true, value: `[${el.type} is not supported here]` });
    }
  }

  // What the person entered, keyed by block_id (what the act endpoint passes to submit_view).
  function readField(node) {
    const type = node.dataset.type;
    const multi = node.querySelector("select[multiple]");
    if (multi) return [...multi.selectedOptions].map((o) => o.value);
    if (type === "checkboxes") return [...node.querySelectorAll("input:checked")].map((i) => i.value);
    if (type === "radio_buttons") {
      const on = node.querySelector("input:checked");
      return on ? on.value : null;
    }
    const control = node.querySelector("select, textarea, input");
    return control && control.value !== "" ? control.value : null;
  }

  function writeField(node, value) {
    const multi = node.querySelector("select[multiple]");
    const wanted = new Set([].concat(value === null ? [] : value));
    if (multi) for (const o of multi.options) o.selected = wanted.has(o.value);
    else if (node.dataset.type === "checkboxes" || node.dataset.type === "radio_buttons") {
      for (const i of node.querySelectorAll("input")) i.checked = wanted.has(i.value);
    } else {
      const control = node.querySelector("select, textarea, input");
      if (control && value !== null) control.value = value;
    }
  }

  function readForm(root) {
    const values = {};
    for (const node of root.querySelectorAll(".field")) values[node.dataset.blockId] = readField(node);
    return values;
  }

  // ---- acting as the person -----------------------------------------------------------------------------
  function banner(text, level) {
    const node = $("banner");
    node.textContent = text;
    node.className = level || "";
    node.hidden = false;
    clearTimeout(banner.timer);
    banner.timer = setTimeout(() => { node.hidden = true; }, 10000);
  }

  function ackProblem(ack) {
    if (!ack || ack.ok) return null;
    if (ack.timed_out) return "The app did not respond in time; the person would see a warning in Slack.";
    return `The app answered ${ack.status ? "HTTP " + ack.status : "nothing (" + (ack.error || "no connection") + ")"}.`;
  }

  async function act(body, report) {
    const say = report || banner;
    let data;
    try {
      const res = await fetch(ACT_URL, {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ user: S.me, ...body }),
      });
      data = await res.json().catch(() => ({ ok: false, error: `HTTP ${res.status}` }));
      if (!res.ok || !data.ok) {
        say(data.error || `HTTP ${res.status}`, "error");
        return null;
      }
    } catch (err) {
      say(`The stand-in is not reachable (${err.message})`, "error");
      return null;
    }
    const problem = ackProblem(data.ack);
    if (problem) say(problem, "warn");
    poll();
    return data;
  }

  // ---- drawing ---------------------------------------------------------------------------------------
  function load(data) {
    S.data = data;
    S.users = new Map(data.users.map((u) => [u.id, u]));
    S.channels = new Map(data.channels.map((c) => [c.id, c]));
    S.groups = new Map((data.usergroups || []).map((g) => [g.id, g]));
    const people = humans();
    if (!S.me || !S.users.has(S.me)) {
      const wanted = new URLSearchParams(location.search).get("as") || localStorage.getItem("sandbox.person");
      const found = people.find((u) => wanted && (u.id === wanted || u.name === wanted));
      S.me = (found || people[0] || {}).id || null;
    }
    const list = sidebarChannels();
    const named = (ref) => list.find((c) => ref && (c.id === ref || c.name === ref.replace(/^#/, "")));
    const linked = named(S.wanted);
    if (linked) {
      S.channel = linked.id;
      S.wanted = null;
    }
    if (!S.channel || !S.channels.has(S.channel)) {
      const found = named(localStorage.getItem("sandbox.channel"));
      S.channel = (found || list.find((c) => c.is_general) || list[0] || {}).id || null;
    }
  }

  const humans = () => [...S.users.values()].filter((u) => !u.is_bot && !u.deleted && u.id !== "USLACKBOT");
  const isMember = (c) => !S.me || c.members.includes(S.me);

  function sidebarChannels() {
    const visible = [...S.channels.values()].filter((c) => !c.is_im && (!c.is_private || isMember(c)));
    visible.sort((a, b) => (isMember(b) - isMember(a)) || a.name.localeCompare(b.name));
    const dms = [...S.channels.values()].filter((c) => c.is_im && (!S.me || c.user === S.me));
    return [...visible, ...dms];
  }

  function channelLabel(c) {
    if (c.is_im) return S.me ? userName(S.data.bot_user_id) : `${userName(S.data.bot_user_id)} ↔ ${userName(c.user)}`;
    return c.name;
  }

  const countable = (c) => c.messages.filter((m) => !SYSTEM.has(m.subtype)).length;

  function remember() {
    const params = new URLSearchParams(location.search);
    const me = S.users.get(S.me);
    const ch = S.channels.get(S.channel);
    if (me) params.set("as", me.name);
    if (S.wanted) params.set("channel", S.wanted);  // still waiting for it: a reload keeps waiting
    else if (ch) params.set("channel", ch.is_im ? ch.id : ch.name);
    history.replaceState(null, "", `${location.pathname}?${params}`);
    if (S.me) localStorage.setItem("sandbox.person", S.me);
    if (S.channel) localStorage.setItem("sandbox.channel", S.channel);
  }

  function renderPeople() {
    const sel = $("person");
    const people = humans();
    const key = people.map((u) => `${u.id}:${userName(u.id)}:${u.name}`).join("|");
    if (sel.dataset.people !== key) {  // rebuilt only when people change, so an open dropdown stays open
      put(sel, people.map((u) => h("option", { value: u.id, text: `${userName(u.id)} (@${u.name})` })));
      sel.dataset.people = key;
    }
    sel.value = S.me || "";
    sel.disabled = people.length === 0;
    $("team-name").textContent = S.data.team_name || "Slack stand-in";
    const mode = $("mode");
    mode.className = `mode ${S.data.web_actions ? "interactive" : ""}`;
    mode.textContent = S.data.web_actions
      ? `Interactive: clicks and submissions act as ${S.me ? userName(S.me) : "nobody"}.`
      : "Read-only: start the stand-in with web_actions=True to click.";
  }

  function renderSidebar() {
    const nav = $("channels");
    const list = sidebarChannels();
    const entry = (c) => {
      const unread = c.id === S.channel ? 0 : Math.max(0, countable(c) - (S.seen.get(c.id) || 0));
      const classes = ["chan", c.id === S.channel && "current", unread && "unread", !isMember(c) && "outside"];
      return h("button", {
        class: classes.filter(Boolean).join(" "), type: "button", data: { channel: c.id },
        title: isMember(c) ? null : "not a member", onclick: () => { S.channel = c.id; S.wanted = null; render(); },
      },
      h("span", { text: c.is_im ? "●" : c.is_private ? "🔒" : "#" }),
      h("span", { class: "chan-name", text: channelLabel(c) + (c.is_archived ? " (archived)" : "") }),
      unread ? h("span", { class: "badge", text: String(unread) }) : null);
    };
    put(nav,
      h("h2", { text: "Channels" }), list.filter((c) => !c.is_im).map(entry),
      list.some((c) => c.is_im) ? h("h2", { text: "Apps" }) : null, list.filter((c) => c.is_im).map(entry));
  }

  function messageNode(m, ch, replies) {
    if (SYSTEM.has(m.subtype)) return h("div", { class: "msg system", data: { ts: m.ts } }, mrkdwn(m.text));
    const ephemeral = m.ephemeral === true;
    const u = S.users.get(m.user);
    const app = Boolean(m.bot_id || (u && u.is_bot));
    const name = userName(m.user);
    const ctx = { kind: "message", channel: ch.id, ts: m.ts };
    const avatar = h("div", { class: "avatar", text: (name || "?").slice(0, 1).toUpperCase() });
    avatar.style.background = colour(m.user);
    const classes = ["msg", m.pinned && "pinned", ephemeral && "ephemeral"].filter(Boolean).join(" ");
    const threadKey = `${ch.id}:${m.ts}`;
    const open = S.expanded.has(threadKey);
    return h("div", { class: classes, data: { ts: m.ts, user: m.user } },
      avatar,
      h("div", { class: "msg-main" },
        h("div", { class: "msg-head" },
          h("span", { class: "name", text: name }),
          app ? h("span", { class: "app-badge", text: "APP" }) : null,
          h("span", { class: "time", text: when(m.ts), title: m.ts }),
          m.pinned ? h("span", { class: "pin", text: "📌 Pinned" }) : null,
          m.edited ? h("span", { class: "edited", text: "(edited)" }) : null,
          ephemeral ? h("span", { class: "only-you", text: "Only visible to you" }) : null),
        m.blocks && m.blocks.length ? blocks(m.blocks, ctx) : mrkdwn(m.text),
        (m.attachments || []).map((a) => {
          const node = h("div", { class: "attachment" },
            a.blocks && a.blocks.length ? blocks(a.blocks, ctx) : mrkdwn([a.pretext, a.title, a.text || a.fallback].filter(Boolean).join("\n")));
          if (typeof a.color === "string" && /^#?[0-9a-f]{3,8}$/i.test(a.color)) node.style.borderLeftColor = a.color.startsWith("#") ? a.color : `#${a.color}`;
          return node;
        }),
        m.files && m.files.length ? h("div", { class: "files" }, m.files.map((f) => `📎 ${f.title || f.name} `)) : null,
        m.reactions && m.reactions.length ? h("div", { class: "reactions" }, m.reactions.map((r) => h("span", {
          class: "reaction", title: r.users.map(userName).join(", "), text: `${EMOJI[r.name] || ":" + r.name + ":"} ${r.users.length}`,
        }))) : null,
        replies && replies.length ? h("div", { class: "thread" },
          h("button", {
            class: "thread-toggle", type: "button", "aria-expanded": String(open),
            onclick: () => { if (open) S.expanded.delete(threadKey); else S.expanded.add(threadKey); renderChannel(); },
          }, `${open ? "▾" : "▸"} ${replies.length} ${replies.length === 1 ? "reply" : "replies"}`),
          open ? h("div", { class: "replies" }, replies.map((r) => messageNode(r, ch, null))) : null) : null));
  }

  function renderChannel() {
    const head = $("channel-header");
    const box = $("messages");
    const ch = S.channels.get(S.channel);
    if (!ch) {
      put(head, h("h1", { text: "No channel" }));
      put(box, h("p", { class: "empty", text: "There is no channel to show yet." }));
      return;
    }
    S.seen.set(ch.id, countable(ch));
    const pinned = ch.messages.filter((m) => m.pinned).length;
    const topic = ch.topic && ch.topic.value;
    put(head,
      h("h1", { text: `${ch.is_im ? "" : ch.is_private ? "🔒 " : "# "}${channelLabel(ch)}${ch.is_archived ? " (archived)" : ""}` }),
      topic ? h("div", { class: "topic", title: "Topic" }, mrkdwn(topic)) : null,
      h("div", { class: "meta", text: `${ch.members.length} members${pinned ? ` · 📌 ${pinned} pinned` : ""}${isMember(ch) ? "" : " · you are not a member"}` }));
    const ephemerals = (S.data.ephemerals || []).filter((e) => e.user === S.me && e.channel === ch.id)
      .map((e) => ({ ...e, ephemeral: true, user: S.data.bot_user_id, to: e.user }));
    const all = [...ch.messages, ...ephemerals];
    const isReply = (m) => m.thread_ts && m.thread_ts !== m.ts;
    const threads = new Map();
    for (const m of all.filter(isReply)) {
      if (!threads.has(m.thread_ts)) threads.set(m.thread_ts, []);
      threads.get(m.thread_ts).push(m);
    }
    for (const list of threads.values()) list.sort((a, b) => tsCmp(a.ts, b.ts));
    const top = all.filter((m) => !isReply(m) || m.reply_broadcast).sort((a, b) => tsCmp(a.ts, b.ts));
    const stick = S.lastChannel !== ch.id || box.scrollHeight - box.scrollTop - box.clientHeight < 48;
    const keep = box.scrollTop;
    put(box, (top.length ? top.map((m) => messageNode(m, ch, m.reply_broadcast ? null : threads.get(m.ts)))
      : [h("p", { class: "empty", text: "No messages yet." })]));
    box.scrollTop = stick ? box.scrollHeight : keep;
    S.lastChannel = ch.id;
  }

  function renderModal() {
    const root = $("modal-root");
    const stack = (S.me && S.data.modals && S.data.modals[S.me]) || [];
    const view = stack[stack.length - 1];
    const key = view ? `${S.me}:${view.id}:${view.hash}:${S.data.web_actions}` : null;
    if (key === S.modalKey) return;
    const kept = view && S.modalKey && S.modalKey.startsWith(`${S.me}:${view.id}:`) ? readForm(root) : null;
    S.modalKey = key;
    if (!view) {
      put(root);
      return;
    }
    const off = !canAct();
    const problem = h("div", { class: "modal-error", role: "alert" });
    const report = (text) => { problem.textContent = text; };
    const ctx = { kind: "view", viewId: view.id, state: view.state, report };
    const body = h("div", { class: "modal-body" }, blocks(view.blocks, ctx));
    const close = () => act({ kind: "close", view_id: view.id }, report);
    const submit = async () => {
      report("");
      for (const node of body.querySelectorAll(".field .error")) node.textContent = "";
      const done = await act({ kind: "submit", view_id: view.id, values: readForm(body) }, report);
      const errors = (done && done.ack && done.ack.errors) || {};
      for (const [blockId, text] of Object.entries(errors)) {
        const node = [...body.querySelectorAll(".field")].find((f) => f.dataset.blockId === blockId);
        if (node) node.querySelector(".error").textContent = String(text);
      }
    };
    const title = view.title || "Modal";
    put(root, h("div", { class: "overlay" },
      h("div", { class: "modal", role: "dialog", "aria-modal": "true", "aria-label": title, data: { viewId: view.id } },
        h("div", { class: "modal-head" },
          h("h2", { text: title }),
          h("button", { class: "modal-x", type: "button", "aria-label": "Close", disabled: off, onclick: close, text: "×" })),
        body,
        h("div", { class: "modal-foot" },
          h("span", { class: "stack", text: stack.length > 1 ? `${stack.length} views open` : off ? "read-only" : "" }),
          problem,
          h("button", { class: "btn", type: "button", disabled: off, onclick: close, text: plainText(view.close) || "Cancel" }),
          view.submit ? h("button", { class: "btn primary", type: "button", disabled: off, onclick: submit, text: plainText(view.submit) }) : null))));
    if (kept) {
      for (const node of body.querySelectorAll(".field")) {
        if (node.dataset.blockId in kept) writeField(node, kept[node.dataset.blockId]);
      }
    }
  }

  function render() {
    renderPeople();
    renderSidebar();
    renderChannel();
    renderModal();
    remember();
  }

  // ---- live ---------------------------------------------------------------------------------------------
  let timer = null;
  let inFlight = false;
  let again = false;

  function setLive(ok) {
    const node = $("live");
    node.className = `live ${ok ? "on" : "off"}`;
    node.textContent = ok ? "live" : "disconnected";
    node.title = ok ? "polling the stand-in" : "the stand-in does not answer";
  }

  async function poll() {
    if (inFlight) {
      again = true;
      return;
    }
    inFlight = true;
    clearTimeout(timer);
    try {
      const res = await fetch(STATE_URL, { cache: "no-store" });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const data = await res.json();
      setLive(true);
      if (data.version !== S.version) {
        S.version = data.version;
        load(data);
        render();
      }
    } catch (err) {
      setLive(false);
    } finally {
      inFlight = false;
      if (again) {
        again = false;
        poll();
      } else {
        timer = setTimeout(poll, POLL_MS);
      }
    }
  }

  $("person").addEventListener("change", (ev) => {
    S.me = ev.target.value;
    if (!sidebarChannels().some((c) => c.id === S.channel)) S.channel = null;
    load(S.data);
    render();
  });
  $("banner").addEventListener("click", (ev) => { ev.currentTarget.hidden = true; });
  poll();
})();
