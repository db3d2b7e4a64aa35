// #/agent: the agent's Omni-Channel console. Presence, incoming requests (accept,
// decline with a reason, the push-timeout countdown), open work (close, flags,
// after-conversation work) and the workload meter, all through omniToolkit.js.
//
// The page draws one read, getConsoleState() (GET /services/omni/v1/console), and
// reads it again, debounced, after every console event and when the stream comes back
// after a drop: events say that something changed, the state says what is true now.
// Times count down on a ServerClock synced to the state's serverTime, so the page
// follows the server's clock (a manual test clock too), not the browser's.
//
// Work items are drawn once each and updated in place, keyed by workId, so a refresh
// never takes the keyboard focus, a typed flag message or a chosen decline reason away.

import { ANY_EVENT, CONNECTION_RESTORED } from "/console/omniToolkit.js";
import { duration, h, section, ServerClock, show } from "/console/ui.js";

const STYLESHEET = "/console/pages/agent.css";
const REFRESH_DEBOUNCE_MS = 120;
const OFFLINE = "";

function useStyles() {
  if (document.querySelector(`link[href="${STYLESHEET}"]`)) return;
  document.head.append(h("link", { rel: "stylesheet", href: STYLESHEET }));
}

/** A name for a work item, for labels and announcements. */
function workName(work) {
  return work.workItemName || work.workItemId;
}

function hidden(text) {
  return h("span", { class: "visually-hidden" }, text);
}

// -- the request sound ------------------------------------------------------------------

/**
 * A short WebAudio beep for a new request. Browsers let an AudioContext start only
 * after the user has interacted with the page; before that the beep is skipped quietly
 * (counted in data-sounds-muted), so nothing throws or logs. Beeps played are counted
 * in the root's data-sounds-played.
 */
class Beeper {
  constructor(root) {
    this.root = root;
    this.audio = null;
    root.dataset.soundsPlayed = "0";
    root.dataset.soundsMuted = "0";
  }

  _count(key) {
    this.root.dataset[key] = String(Number(this.root.dataset[key] || 0) + 1);
  }

  _context() {
    if (this.audio) return this.audio;
    const Ctor = window.AudioContext || window.webkitAudioContext;
    // Creating a context before any user activation makes Chromium log a warning.
    const activation = navigator.userActivation;
    if (!Ctor || (activation && !activation.hasBeenActive)) return null;
    try {
      this.audio = new Ctor();
    } catch {
      this.audio = null;
    }
    return this.audio;
  }

  async beep() {
    const audio = this._context();
    if (audio && audio.state === "suspended") {
      await audio.resume().catch(() => null);
    }
    if (!audio || audio.state !== "running") {
      this._count("soundsMuted");
      return;
    }
    try {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      const t = audio.currentTime;
      osc.type = "sine";
      osc.frequency.setValueAtTime(880, t);
      osc.frequency.setValueAtTime(660, t + 0.12);
      gain.gain.setValueAtTime(0.0001, t);
      gain.gain.exponentialRampToValueAtTime(0.2, t + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.3);
      osc.connect(gain).connect(audio.destination);
      osc.start(t);
      osc.stop(t + 0.32);
      this._count("soundsPlayed");
    } catch {
      this._count("soundsMuted");
    }
  }

  close() {
    if (this.audio) this.audio.close().catch(() => null);
    this.audio = null;
  }
}

// -- work items ---------------------------------------------------------------------------

/** A countdown: role=timer (not read aloud on every tick), updated by tick(). */
function countdown(prefix) {
  const el = h("span", { class: "countdown", role: "timer" });
  return {
    el,
    until: null,
    tick(now) {
      if (this.until === null) {
        el.textContent = "";
        return;
      }
      const left = Math.ceil((this.until - now) / 1000);
      el.textContent = left > 0 ? `${prefix} ${duration(left)}` : `${prefix} 0s`;
      el.dataset.secondsLeft = String(Math.max(0, left));
    },
  };
}

/** An incoming (Assigned) request: what it is, its countdown, Accept and Decline. */
function requestItem(work, page) {
  const titleId = `agent-req-${work.workId}`;
  const timer = countdown("Respond within");
  const title = h("h3", { id: titleId, class: "agent-work-title", tabindex: "-1" });
  const meta = h("p", { class: "muted agent-work-meta" });
  const reasonId = `agent-reason-${work.workId}`;
  const reason = h("select", { id: reasonId, class: "agent-reason" });
  const reasonField = h(
    "div",
    { class: "field agent-reason-field" },
    h("label", { for: reasonId }, "Decline reason", hidden(` for ${workName(work)}`)),
    reason,
  );
  const accept = h(
    "button",
    { type: "button", class: "primary", onclick: () => page.act("accept", work, () => page.toolkit.acceptAgentWork({ workId: work.workId })) },
    "Accept",
    hidden(` ${workName(work)}`),
  );
  const decline = h(
    "button",
    {
      type: "button",
      class: "danger",
      onclick: () =>
        page.act("decline", work, () =>
          page.toolkit.declineAgentWork({ workId: work.workId, declineReason: reason.value || undefined }),
        ),
    },
    "Decline",
    hidden(` ${workName(work)}`),
  );
  const node = h(
    "li",
    { class: "agent-work agent-request", dataset: { workId: work.workId }, "aria-labelledby": titleId },
    title,
    meta,
    h("p", { class: "agent-timer" }, timer.el),
    // Tab order: Accept, then the decline reason and Decline together.
    h("div", { class: "actions" }, accept),
    h("div", { class: "agent-decline" }, reasonField, h("div", { class: "actions" }, decline)),
  );
  let reasonsKey = null;
  return {
    node,
    focusTarget: title,
    timers: [timer],
    buttons: [accept, decline],
    update(w, state, clock) {
      title.textContent = workName(w);
      meta.textContent = [w.workItemObject, w.channelName].filter(Boolean).join(" · ");
      const expires = w.pushExpiresAt ? Date.parse(w.pushExpiresAt) : NaN;
      timer.until = Number.isNaN(expires) ? null : expires;
      timer.tick(clock.now());
      const opts = state.options || {};
      decline.hidden = !opts.declineEnabled;
      reasonField.hidden = !(opts.declineEnabled && opts.declineReasonEnabled);
      const reasons = opts.declineReasons || [];
      const key = JSON.stringify(reasons);
      if (key !== reasonsKey) {
        reasonsKey = key;
        const chosen = reason.value;
        show(
          reason,
          h("option", { value: "" }, "No reason given"),
          reasons.map((r) => h("option", { value: r.label }, r.label)),
        );
        reason.value = reasons.some((r) => r.label === chosen) ? chosen : "";
      }
    },
  };
}

/** Open work: its record, its flag, its after-conversation work, Close. */
function openItem(work, page) {
  const titleId = `agent-open-${work.workId}`;
  const link = h("a", { href: `#/record/${work.workItemId}` });
  const title = h("h3", { id: titleId, class: "agent-work-title", tabindex: "-1" }, link);
  const meta = h("p", { class: "muted agent-work-meta" });
  const flagBadge = h("p", { class: "agent-flag" });
  const messageId = `agent-flag-msg-${work.workId}`;
  const message = h("input", { id: messageId, type: "text", maxlength: "1000", autocomplete: "off" });
  const messageField = h(
    "div",
    { class: "field agent-flag-field" },
    h("label", { for: messageId }, "Flag message (optional)", hidden(` for ${workName(work)}`)),
    message,
  );
  const raise = h(
    "button",
    {
      type: "button",
      onclick: () =>
        page.act("raise", work, async () => {
          await page.toolkit.raiseAgentWorkFlag({ workId: work.workId, message: message.value.trim() || undefined });
          message.value = "";
        }),
    },
    "Raise flag",
    hidden(` on ${workName(work)}`),
  );
  const lower = h(
    "button",
    { type: "button", onclick: () => page.act("lower", work, () => page.toolkit.lowerAgentWorkFlag({ workId: work.workId })) },
    "Lower flag",
    hidden(` on ${workName(work)}`),
  );
  const acwTimer = countdown("After-conversation work ends in");
  const acwLine = h("p", { class: "agent-timer agent-acw" }, acwTimer.el);
  const extend = h(
    "button",
    {
      type: "button",
      onclick: () => page.act("extend", work, () => page.toolkit.extendAfterConversationWork({ workId: work.workId })),
    },
    "Extend",
    hidden(` after-conversation work on ${workName(work)}`),
  );
  const closeLabel = h("span", {}, "Close");
  const close = h(
    "button",
    { type: "button", class: "primary", onclick: () => page.act("close", work, () => page.toolkit.closeAgentWork({ workId: work.workId })) },
    closeLabel,
    hidden(` ${workName(work)}`),
  );
  const node = h(
    "li",
    { class: "agent-work agent-open", dataset: { workId: work.workId }, "aria-labelledby": titleId },
    title,
    meta,
    flagBadge,
    acwLine,
    h("div", { class: "actions" }, close, extend),
    h("div", { class: "agent-flagging" }, messageField, h("div", { class: "actions" }, raise, lower)),
  );
  return {
    node,
    focusTarget: title,
    timers: [acwTimer],
    buttons: [close, extend, raise, lower],
    update(w, state, clock) {
      link.textContent = workName(w);
      const accepted = w.acceptDateTime ? `accepted ${new Date(w.acceptDateTime).toLocaleTimeString()}` : "";
      meta.textContent = [w.workItemObject, w.channelName, accepted].filter(Boolean).join(" · ");
      const flag = w.flag && w.flag.isFlagged ? w.flag : null;
      node.classList.toggle("flagged", Boolean(flag));
      flagBadge.hidden = !flag;
      if (flag) {
        show(
          flagBadge,
          h("span", { class: "badge flag" }, "Flagged"),
          flag.message ? h("span", { class: "agent-flag-message" }, ` ${flag.message}`) : null,
        );
      }
      messageField.hidden = Boolean(flag);
      raise.hidden = Boolean(flag);
      lower.hidden = !flag;
      const acw = w.afterConversationWork || null;
      const ends = acw && acw.endsAt ? Date.parse(acw.endsAt) : NaN;
      acwLine.hidden = !acw;
      acwTimer.until = acw && !Number.isNaN(ends) ? ends : null;
      acwTimer.tick(clock.now());
      extend.hidden = !(acw && acw.extendable);
      // Salesforce's "Done" ends after-conversation work (closeAgentWork again).
      closeLabel.textContent = acw ? "Done" : "Close";
    },
  };
}

/** A list of work items kept in step with the state, keyed by workId. */
function keyedList(make, page, emptyText) {
  const list = h("ul", { class: "list agent-works" });
  const empty = h("p", { class: "muted agent-empty" }, emptyText);
  const items = new Map();
  return {
    el: h("div", {}, list, empty),
    items,
    /** Returns the ids added. */
    sync(works, state, clock) {
      const ids = new Set(works.map((w) => w.workId));
      for (const [id, item] of items) {
        if (!ids.has(id)) {
          const hadFocus = item.node.contains(document.activeElement);
          item.node.remove();
          items.delete(id);
          if (hadFocus) page.focusLost();
        }
      }
      const added = [];
      let previous = null;
      for (const w of works) {
        let item = items.get(w.workId);
        if (!item) {
          item = make(w, page);
          items.set(w.workId, item);
          added.push(w.workId);
        }
        item.update(w, state, clock);
        const want = previous ? previous.node.nextSibling : list.firstChild;
        if (want !== item.node) list.insertBefore(item.node, want);
        previous = item;
      }
      empty.hidden = works.length > 0;
      return added;
    },
    tick(now) {
      for (const item of items.values()) for (const t of item.timers) t.tick(now);
    },
  };
}

// -- the page -------------------------------------------------------------------------------

export default async function render(root, ctx) {
  useStyles();
  const toolkit = ctx.toolkit;
  const clock = new ServerClock();
  const page = root.appendChild(h("div", { class: "agent-console", "aria-busy": "true" }));
  const beeper = new Beeper(page);

  const errorBox = h("div", { class: "agent-error", role: "alert" });
  const statusSelect = h("select", { id: "agent-status", "aria-describedby": "agent-status-now" });
  const statusNow = h("p", { id: "agent-status-now", class: "muted" });
  const meter = h("meter", { id: "agent-workload", min: "0", max: "1", value: "0" });
  const meterText = h("p", { id: "agent-workload-text", class: "agent-workload-text" });

  let state = null;
  let busy = false;
  let disposed = false;
  let seen = null; // work ids shown so far (null until the first state)

  const pageApi = {
    toolkit,
    /** Run one call from a button: controls are disabled meanwhile, errors shown. */
    async act(kind, work, call) {
      if (busy) return;
      setBusy(true);
      try {
        await call();
        clearError();
        if (kind === "accept") pageApi.focusAfter = work.workId;
        if (kind === "close" || kind === "decline") ctx.announce(`${workName(work)}: ${kind === "close" ? "closed" : "declined"}.`);
      } catch (e) {
        showError(`Could not ${ACTIONS[kind]} ${workName(work)}`, e);
      } finally {
        setBusy(false);
      }
      await refresh();
    },
    focusAfter: null,
    focusLost() {
      // The focused item went (accepted, declined, closed, timed out): keep the keyboard
      // in the same place on the page rather than on the document's body.
      (requests.items.size ? [...requests.items.values()][0].focusTarget : requestsHeading()).focus();
    },
  };
  const ACTIONS = {
    accept: "accept",
    decline: "decline",
    close: "close",
    raise: "raise the flag on",
    lower: "lower the flag on",
    extend: "extend the after-conversation work on",
  };

  const requests = keyedList(requestItem, pageApi, "No incoming requests.");
  const open = keyedList(openItem, pageApi, "No open work.");

  const presence = section(
    "Presence",
    h("div", { class: "field" }, h("label", { for: "agent-status" }, "Presence status"), statusSelect),
    statusNow,
  );
  const workload = section(
    "Capacity",
    h("div", { class: "field" }, h("label", { for: "agent-workload" }, "Workload"), meter),
    meterText,
  );
  const requestsCard = section("Incoming requests", requests.el);
  const openCard = section("My open work", open.el);
  requestsCard.classList.add("agent-requests");
  const requestsHeading = () => requestsCard.querySelector("h2");
  requestsHeading().setAttribute("tabindex", "-1");

  show(
    page,
    h("h1", {}, "Omni-Channel"),
    errorBox,
    h(
      "div",
      { class: "agent-grid" },
      h("div", { class: "agent-side" }, presence, workload),
      h("div", { class: "agent-main" }, requestsCard, openCard),
    ),
  );

  function showError(what, e) {
    const message = e && e.message ? e.message : String(e);
    errorBox.textContent = `${what}: ${message}`;
  }
  function clearError() {
    errorBox.textContent = "";
  }
  function setBusy(value) {
    busy = value;
    page.setAttribute("aria-busy", String(value));
    statusSelect.disabled = value;
    for (const list of [requests, open]) {
      for (const item of list.items.values()) for (const b of item.buttons) b.disabled = value;
    }
  }

  let statusKey = null;
  function drawPresence() {
    const statuses = [...(state.statuses || [])];
    const current = state.online && state.status ? state.status : null;
    if (current && !statuses.some((s) => s.statusId === current.statusId)) statuses.push(current);
    // The options are redrawn only when they change, not under a keyboard user's feet.
    const key = JSON.stringify(statuses.map((s) => [s.statusId, s.statusName]));
    if (key !== statusKey) {
      statusKey = key;
      show(
        statusSelect,
        h("option", { value: OFFLINE }, "Offline"),
        statuses.map((s) => h("option", { value: s.statusId }, s.statusName)),
      );
    }
    statusSelect.value = current ? current.statusId : OFFLINE;
    page.dataset.online = String(Boolean(current));
    statusNow.textContent = current
      ? `You are ${current.statusName}${statusChannels(current)}.`
      : "You are offline: no work is routed to you.";
  }

  function statusChannels(status) {
    const names = (status.channels || []).map((c) => c.developerName || c.channelId);
    return names.length ? ` (channels: ${names.join(", ")})` : " (no channels: no work is routed to you)";
  }

  function drawWorkload() {
    const capacity = Number(state.configuredCapacity) || 0;
    const used = Number(state.currentWorkload) || 0;
    meter.max = capacity > 0 ? capacity : 1;
    meter.value = Math.min(used, meter.max);
    meter.high = meter.max * 0.8;
    meter.optimum = 0;
    const amount = Number.isInteger(used) ? used : used.toFixed(2);
    meterText.textContent = capacity > 0 ? `${amount} of ${capacity} capacity used` : "No capacity (offline)";
    page.dataset.workload = String(used);
  }

  function draw() {
    clock.sync(state.serverTime);
    drawPresence();
    drawWorkload();
    const works = state.works || [];
    const assigned = works.filter((w) => w.status === "Assigned");
    const opened = works.filter((w) => w.status === "Opened");
    const newRequests = requests.sync(assigned, state, clock);
    const newOpen = open.sync(opened, state, clock);
    if (seen !== null) {
      const fresh = [...newRequests, ...newOpen].filter((id) => !seen.has(id));
      for (const id of fresh) {
        const w = works.find((x) => x.workId === id);
        if (w.status === "Assigned") {
          const left = w.pushExpiresAt ? Math.ceil((Date.parse(w.pushExpiresAt) - clock.now()) / 1000) : null;
          ctx.announce(`New request: ${workName(w)}${left ? `. Respond within ${duration(left)}` : ""}.`);
        } else {
          ctx.announce(`New work opened for you: ${workName(w)}.`);
        }
      }
      if (fresh.length && state.options && state.options.requestSoundEnabled) beeper.beep();
    }
    seen = new Set([...(seen || []), ...works.map((w) => w.workId)]);
    if (pageApi.focusAfter) {
      const item = open.items.get(pageApi.focusAfter);
      pageApi.focusAfter = null;
      if (item) item.focusTarget.focus();
    }
  }

  let running = null;
  let again = false;
  async function load() {
    try {
      state = await toolkit.getConsoleState();
    } catch (e) {
      if (!disposed) showError("The Omni-Channel state could not be read", e);
      return;
    }
    if (disposed) return;
    if (errorBox.textContent.startsWith("The Omni-Channel state")) clearError();
    draw();
    page.setAttribute("aria-busy", String(busy));
  }
  function refresh() {
    if (running) {
      again = true;
      return running;
    }
    running = load().finally(() => {
      running = null;
      if (again && !disposed) {
        again = false;
        refresh();
      }
    });
    return running;
  }

  let debounce = null;
  const soon = () => {
    clearTimeout(debounce);
    debounce = setTimeout(refresh, REFRESH_DEBOUNCE_MS);
  };
  ctx.listen(ANY_EVENT, soon);
  ctx.listen(CONNECTION_RESTORED, soon);

  statusSelect.addEventListener("change", async () => {
    const chosen = statusSelect.value;
    const wasOnline = Boolean(state && state.online && state.status);
    setBusy(true);
    try {
      if (chosen === OFFLINE) {
        await toolkit.logout();
      } else if (wasOnline) {
        await toolkit.setServicePresenceStatus({ statusId: chosen });
      } else {
        await toolkit.login({ statusId: chosen });
      }
      clearError();
      const label = statusSelect.selectedOptions[0] ? statusSelect.selectedOptions[0].textContent : "";
      ctx.announce(chosen === OFFLINE ? "You are offline." : `Your status is ${label}.`);
    } catch (e) {
      showError(chosen === OFFLINE ? "Could not go offline" : "Could not change your status", e);
    } finally {
      setBusy(false);
    }
    await refresh();
  });

  const ticker = setInterval(() => {
    const now = clock.now();
    requests.tick(now);
    open.tick(now);
  }, 1000);

  await refresh();
  return () => {
    disposed = true;
    clearInterval(ticker);
    clearTimeout(debounce);
    beeper.close();
  };
}
