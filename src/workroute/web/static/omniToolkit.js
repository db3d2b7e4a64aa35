// omniToolkit.js: the Omni-Channel console toolkit of the Lightning console API,
// for the browser, over the workroute server the page was loaded from.
//
//   import { OmniToolkit } from "/console/omniToolkit.js";
//   const omni = new OmniToolkit();
//   omni.addEventListener("lightning:omniChannelWorkAssigned", (e) => {
//     console.log(e.getParam("workId"), e.getParam("workItemId"));
//   });
//   omni.connect();
//   await omni.login({ statusId: "0N5..." });
//   const { works } = await omni.getAgentWorks();   // a JSON string, as in Salesforce
//
// Every method takes one object of named arguments and returns a promise: it
// resolves to the result fields the Salesforce documentation lists for that method
// (always with success: true) and rejects with an OmniToolkitError carrying the
// server's errorCode and message. The session is the console's sign-in cookie, or a
// bearer token given as { token } to the constructor.
//
// Events are dispatched on the toolkit (an EventTarget) under the names of the
// Lightning events, lightning:omniChannel*; each has event.detail and, as in Aura,
// event.getParam(name). The stream resumes after the last event it delivered when the
// connection drops and comes back, so none is lost or repeated.

/** The seed's events, by the server's topic name. */
export const LIGHTNING_EVENTS = Object.freeze({
  loginSuccess: "lightning:omniChannelLoginSuccess",
  statusChanged: "lightning:omniChannelStatusChanged",
  logout: "lightning:omniChannelLogout",
  workAssigned: "lightning:omniChannelWorkAssigned",
  workAccepted: "lightning:omniChannelWorkAccepted",
  workDeclined: "lightning:omniChannelWorkDeclined",
  workClosed: "lightning:omniChannelWorkClosed",
  workFlagUpdated: "lightning:omniChannelWorkFlagUpdated",
  workloadChanged: "lightning:omniChannelWorkloadChanged",
});

/** Events workroute adds, under its own prefix. */
export const WORKROUTE_EVENTS = Object.freeze({
  workTransferred: "workroute:workTransferred",
  afterConversationWorkStarted: "workroute:afterConversationWorkStarted",
  afterConversationWorkExtended: "workroute:afterConversationWorkExtended",
  afterConversationWorkEnded: "workroute:afterConversationWorkEnded",
  orchestrationWorkItemAssigned: "workroute:orchestrationWorkItemAssigned",
  orchestrationWorkItemClosed: "workroute:orchestrationWorkItemClosed",
  backlogChanged: "workroute:backlogChanged",
});

export const CONNECTION_ERROR = "lightning:omniChannelConnectionError";
/** Fired once the stream is back after a connection error; detail.replayId is where it resumed. */
export const CONNECTION_RESTORED = "workroute:connectionRestored";
/** Fired when the server no longer takes the session (a call answered 401). */
export const SESSION_ENDED = "workroute:sessionEnded";
/** Fired for every event of the stream, whatever its name (detail: the raw event). */
export const ANY_EVENT = "workroute:event";

/** A rejected toolkit call. */
export class OmniToolkitError extends Error {
  constructor(message, errorCode, status, fields = []) {
    super(message);
    this.name = "OmniToolkitError";
    this.errorCode = errorCode;
    this.status = status;
    this.fields = fields;
  }
}

/** An event of the toolkit: detail plus Aura's getParam. */
export class OmniEvent extends Event {
  constructor(type, detail, replayId = null) {
    super(type);
    this.detail = detail;
    this.replayId = replayId;
  }
  getParam(name) {
    return this.detail ? this.detail[name] : undefined;
  }
  getParams() {
    return { ...(this.detail || {}) };
  }
}

const BASE = "/services/omni/v1";

export class OmniToolkit extends EventTarget {
  /**
   * @param {object} [options]
   * @param {string} [options.baseUrl] the server ("" = the page's own)
   * @param {string} [options.token] a bearer token instead of the sign-in cookie
   * @param {number} [options.reconnectMs] the wait before a closed stream is reopened
   */
  constructor({ baseUrl = "", token = null, reconnectMs = 1000 } = {}) {
    super();
    this.baseUrl = baseUrl;
    this.token = token;
    this.reconnectMs = reconnectMs;
    this.lastReplayId = null;
    this.source = null;
    this.connected = false;
    this.lost = false;
    this._timer = null;
  }

  // -- the seed's methods ---------------------------------------------------------------

  login({ statusId } = {}) {
    return this._call("login", { statusId });
  }
  logout() {
    return this._call("logout", {});
  }
  setServicePresenceStatus({ statusId } = {}) {
    return this._call("setServicePresenceStatus", { statusId });
  }
  getServicePresenceStatusId() {
    return this._call("getServicePresenceStatusId", {});
  }
  getServicePresenceStatusChannels() {
    return this._call("getServicePresenceStatusChannels", {});
  }
  getAgentWorks() {
    return this._call("getAgentWorks", {});
  }
  getAgentWorkload() {
    return this._call("getAgentWorkload", {});
  }
  acceptAgentWork({ workId } = {}) {
    return this._call("acceptAgentWork", { workId });
  }
  declineAgentWork({ workId, declineReason } = {}) {
    const args = { workId };
    if (declineReason !== undefined && declineReason !== null) args.declineReason = declineReason;
    return this._call("declineAgentWork", args);
  }
  closeAgentWork({ workId } = {}) {
    return this._call("closeAgentWork", { workId });
  }
  raiseAgentWorkFlag({ workId, message } = {}) {
    const args = { workId };
    if (message !== undefined && message !== null) args.message = message;
    return this._call("raiseAgentWorkFlag", args);
  }
  lowerAgentWorkFlag({ workId } = {}) {
    return this._call("lowerAgentWorkFlag", { workId });
  }

  // -- workroute's additions --------------------------------------------------------------

  /** Transfer work to exactly one of a queue, a user or a set of skills. */
  transferAgentWork({ workId, queueId, userId, skillIds } = {}) {
    const args = { workId };
    if (queueId) args.queueId = queueId;
    if (userId) args.userId = userId;
    if (skillIds) args.skillIds = skillIds;
    return this._call("transferAgentWork", args);
  }
  /** Extend the after-conversation work of closed work; resolves with its new endsAt. */
  extendAfterConversationWork({ workId } = {}) {
    return this._call("extendAfterConversationWork", { workId });
  }
  /** Everything the agent's console shows, in one read (GET /services/omni/v1/console). */
  async getConsoleState() {
    return this._fetch("GET", `${BASE}/console`);
  }

  // -- events ------------------------------------------------------------------------------

  /** Open the event stream (idempotent). */
  connect() {
    if (this.source) return;
    const after = this.lastReplayId === null ? "" : `?after=${this.lastReplayId}`;
    // A bearer token cannot ride on EventSource; token users poll with events().
    const source = new EventSource(`${this.baseUrl}${BASE}/events${after}`, { withCredentials: true });
    this.source = source;
    source.onopen = () => {
      this.connected = true;
      if (this.lost) {
        this.lost = false;
        this.dispatchEvent(new OmniEvent(CONNECTION_RESTORED, { replayId: this.lastReplayId }));
      }
    };
    source.onerror = () => {
      if (this.source !== source) return;
      if (!this.lost) {
        this.lost = true;
        this.connected = false;
        this.dispatchEvent(new OmniEvent(CONNECTION_ERROR, { error: "The connection to the server was lost." }));
      }
      if (source.readyState === EventSource.CLOSED) {
        // The browser gave up (the server answered with an error): open a new stream
        // that resumes after the last event delivered.
        this.source = null;
        clearTimeout(this._timer);
        this._timer = setTimeout(() => this.connect(), this.reconnectMs);
      }
    };
    for (const name of [...Object.keys(LIGHTNING_EVENTS), ...Object.keys(WORKROUTE_EVENTS)]) {
      source.addEventListener(name, (message) => this._deliver(name, message));
    }
  }

  /** Close the event stream. */
  disconnect() {
    clearTimeout(this._timer);
    if (this.source) this.source.close();
    this.source = null;
    this.connected = false;
  }

  /** One page of past events after a replay id (for token users and catch-up). */
  async events({ after = 0, limit = 200 } = {}) {
    return this._fetch("GET", `${BASE}/events?after=${after}&limit=${limit}`);
  }

  _deliver(name, message) {
    let event;
    try {
      event = JSON.parse(message.data);
    } catch {
      return;
    }
    const id = Number(message.lastEventId || event.replayId);
    if (this.lastReplayId !== null && id <= this.lastReplayId) return; // never twice
    this.lastReplayId = id;
    const type = LIGHTNING_EVENTS[name] || WORKROUTE_EVENTS[name];
    this.dispatchEvent(new OmniEvent(type, event.payload || {}, id));
    this.dispatchEvent(new OmniEvent(ANY_EVENT, event, id));
  }

  async _call(method, args) {
    return this._fetch("POST", `${BASE}/${method}`, args);
  }

  async _fetch(method, path, body) {
    const headers = { Accept: "application/json", "X-Requested-With": "workroute-console" };
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    const init = { method, headers, credentials: "same-origin" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(`${this.baseUrl}${path}`, init);
    } catch (e) {
      this.dispatchEvent(new OmniEvent(CONNECTION_ERROR, { error: String(e) }));
      throw new OmniToolkitError("The server could not be reached.", "CONNECTION_ERROR", 0);
    }
    let data = null;
    try {
      data = await response.json();
    } catch {
      data = null;
    }
    if (response.status === 401) this.dispatchEvent(new OmniEvent(SESSION_ENDED, {}));
    if (!response.ok) {
      const first = Array.isArray(data) ? data[0] : data;
      throw new OmniToolkitError(
        (first && first.message) || `${response.status} ${response.statusText}`,
        (first && first.errorCode) || "HTTP_ERROR",
        response.status,
        (first && first.fields) || [],
      );
    }
    return data;
  }
}
