/* The offline layer on every page (issue 17): registers the service worker (static/js/sw.js at
 * /sw.js), keeps the outbox of writes made offline in IndexedDB, shows it ("待上传 2 条"), sends
 * it when the connection returns with a confirmation of what was accepted, shows conflicts with
 * both versions and lets the user choose, and wipes the cache and the outbox at logout (after
 * warning about unsent items), when another account logs in, and when the server says the
 * account was deactivated. Without service workers or IndexedDB nothing here runs and the
 * pages work as plain forms.
 *
 * An outbox item: {id (the client UUID), user, kind: "roll" | "visit", url, label, created,
 * status: "pending" | "conflict" | "error", fields (what is sent), files (visit photos as
 * blobs), mine (the user's version, for display), server (the server's copy on conflict),
 * baseName (the field carrying the base version), message}.
 */
(function () {
  "use strict";
  const script = document.currentScript;
  const supported = "serviceWorker" in navigator && "indexedDB" in window && "caches" in window;
  if (!supported || !script) return;
  const user = script.dataset.user || "";
  const DB = "kongchuo-offline";
  const OWNER_KEY = "kongchuo-offline-user";

  // -- IndexedDB -----------------------------------------------------------------------------
  function open() {
    return new Promise((resolve, reject) => {
      const request = indexedDB.open(DB, 1);
      request.onupgradeneeded = () => request.result.createObjectStore("outbox", { keyPath: "id" });
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }
  async function tx(mode, work) {
    const db = await open();
    try {
      return await new Promise((resolve, reject) => {
        const t = db.transaction("outbox", mode);
        const result = work(t.objectStore("outbox"));
        t.oncomplete = () => resolve(result && "result" in result ? result.result : undefined);
        t.onerror = () => reject(t.error);
      });
    } finally {
      db.close();
    }
  }
  const all = () => tx("readonly", (store) => store.getAll()).then((items) => items || []);
  const put = (item) => tx("readwrite", (store) => store.put(item));
  const remove = (id) => tx("readwrite", (store) => store.delete(id));
  const mineOnly = (items) => items.filter((item) => item.user === user);

  async function wipe() {
    const names = await caches.keys();
    await Promise.all(names.map((name) => caches.delete(name)));
    await new Promise((resolve) => {
      const request = indexedDB.deleteDatabase(DB);
      request.onsuccess = request.onerror = request.onblocked = () => resolve();
    });
    localStorage.removeItem(OWNER_KEY);
  }

  function uuid() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  // -- the outbox panel ----------------------------------------------------------------------
  const done = []; // confirmations of this page's uploads
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([key, value]) => node.setAttribute(key, value));
    children.forEach((child) => node.append(child));
    return node;
  }
  function panel() {
    let node = document.getElementById("offline-outbox");
    if (!node) {
      node = el("section", { id: "offline-outbox", "aria-live": "polite", "data-testid": "outbox" });
      const main = document.querySelector("main.content") || document.body;
      main.prepend(node);
    }
    return node;
  }
  function lines(list) {
    return el("ul", {}, ...list.map((text) => el("li", {}, text)));
  }
  function choice(item, label, testid, handler) {
    const button = el("button", { type: "button", "data-testid": testid }, label);
    button.addEventListener("click", () => handler(item));
    return button;
  }
  async function render() {
    const items = mineOnly(await all());
    const node = panel();
    node.replaceChildren();
    if (done.length) {
      node.append(el("ul", { class: "messages", "data-testid": "outbox-done" }, ...done.map((text) => el("li", {}, text))));
    }
    if (!items.length) return;
    const box = el("div", { class: "notice" });
    const waiting = items.length;
    box.append(
      el(
        "p",
        {},
        el("strong", { "data-testid": "outbox-count" }, `待上传 ${waiting} 条`),
        navigator.onLine ? "：正在上传或需要您处理。" : "：当前没有网络，恢复网络后自动上传，请勿退出登录。",
      ),
    );
    const list = el("ul", {});
    items.forEach((item) => {
      const li = el("li", { "data-testid": "outbox-item", "data-kind": item.kind, "data-status": item.status }, item.label);
      if (item.status === "error") {
        li.append(el("div", { class: "error" }, `未被接受：${item.message}`), choice(item, "删除这一条", "outbox-drop", drop));
      }
      if (item.status === "conflict") {
        li.append(
          el("div", { class: "error banner", "data-testid": "conflict" }, item.message),
          el("p", {}, el("strong", {}, "我的：")),
          lines(item.mine),
          el("p", {}, el("strong", {}, "服务器上的：")),
          lines(describeServer(item)),
          choice(item, "保留我的（重新提交）", "keep-mine", keepMine),
          " ",
          choice(item, "采用服务器上的（删除我的）", "keep-server", keepServer),
        );
      }
      list.append(li);
    });
    box.append(list);
    node.append(box);
  }
  function describeServer(item) {
    const server = item.server || {};
    if (item.kind === "roll") {
      const marks = (server.marks || []).map((m) => `${m.name}：${m.status_display}${m.note ? `（${m.note}）` : ""}`);
      return [`${server.changed_by || ""} 最后修改于 ${(server.changed_at || "").slice(0, 16).replace("T", " ")}`, ...(marks.length ? marks : ["全部出勤"])];
    }
    if (server.reassigned) {
      // A case reassigned out of the cadre's area: only where and when it went, no child's data.
      return [
        `已改派至：${server.township_name}（${(server.reassigned_at || "").slice(0, 16).replace("T", " ")}）`,
        "保留我的：以您的名义补登到该案件，并通知新的责任乡镇。",
      ];
    }
    return [
      `状态：${server.state_display || ""} · ${server.step_display || ""}`,
      `责任乡镇：${server.township_name || "县教体局暂管"}`,
      `最近劝返：${server.last_action_on || "尚未开展"}`,
    ];
  }

  // -- choices on a conflict -------------------------------------------------------------------
  async function keepMine(item) {
    item.fields[item.baseName] = item.serverBase;
    item.status = "pending";
    item.server = null;
    await put(item);
    await sync();
  }
  async function keepServer(item) {
    await remove(item.id);
    done.push(`已采用服务器上的版本，手机上的“${item.label}”已删除。`);
    await render();
  }
  async function drop(item) {
    await remove(item.id);
    done.push(`已删除“${item.label}”。`);
    await render();
  }

  // -- sending ---------------------------------------------------------------------------------
  function csrf() {
    const input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }
  function body(item) {
    if (!item.files) return { body: JSON.stringify(item.fields), headers: { "Content-Type": "application/json" } };
    const form = new FormData();
    Object.entries(item.fields).forEach(([key, value]) => {
      (Array.isArray(value) ? value : [value]).forEach((each) => form.append(key, each));
    });
    item.files.forEach((file) => form.append("attachments", file.blob, file.name));
    return { body: form, headers: {} };
  }
  function accepted(item, result) {
    if (item.kind === "roll") {
      const verb = result.replayed ? "此前已上传" : result.created ? "已提交" : "已修改";
      const text = [`${item.label}：${verb}（缺勤/请假${result.absent}人）。`];
      (result.flagged || []).forEach((entry) => text.push(`${entry.name}已连续旷课，已登记为疑似辍学，请尽快核实并开展劝返。`));
      return text.join("");
    }
    return `${item.label}：${result.replayed ? "此前已上传" : "已登记"}（${result.method}，附件${result.attachments}个）。`;
  }
  let syncing = false;
  async function sync() {
    if (syncing || !navigator.onLine) return render();
    syncing = true;
    try {
      for (const item of mineOnly(await all())) {
        if (item.status !== "pending") continue;
        let response;
        try {
          const { body: payload, headers } = body(item);
          response = await fetch(item.url, {
            method: "POST",
            credentials: "same-origin",
            headers: { ...headers, "X-CSRFToken": csrf(), Accept: "application/json" },
            body: payload,
          });
        } catch (error) {
          break; // still offline: try again when the connection returns
        }
        if (response.headers.get("X-Kongchuo-Wipe")) {
          await wipe();
          break;
        }
        if (response.status === 401) break; // logged out: sent after the next login
        const data = await response.json().catch(() => ({}));
        if (response.ok) {
          await remove(item.id);
          done.push(accepted(item, data));
        } else if (response.status === 409) {
          Object.assign(item, { status: "conflict", server: data.server, serverBase: data.base, message: data.detail });
          await put(item);
        } else {
          Object.assign(item, { status: "error", message: data.detail || `服务器返回${response.status}` });
          await put(item);
        }
      }
    } finally {
      syncing = false;
    }
    return render();
  }

  async function queue(item) {
    const id = uuid();
    item.fields.client_id = id;
    await put({ id, user, created: new Date().toISOString(), status: "pending", ...item });
    await render();
    if (navigator.onLine) await sync();
  }

  // -- logout, another account, deactivation ---------------------------------------------------
  function guardLogout() {
    document.querySelectorAll('form[action$="/logout/"]').forEach((form) => {
      form.addEventListener("submit", async (event) => {
        if (form.dataset.wiped) return;
        event.preventDefault();
        const waiting = mineOnly(await all()).length;
        if (waiting && !window.confirm(`还有 ${waiting} 条离线记录没有上传，退出登录会删除它们。确定退出吗？`)) return;
        await wipe();
        form.dataset.wiped = "1";
        form.submit();
      });
    });
  }

  async function start() {
    // Another account on this phone: nothing the previous one kept is shown or sent.
    const owner = localStorage.getItem(OWNER_KEY);
    if (user && owner && owner !== user) await wipe();
    if (!user) return; // logged out: nothing to show, send or keep
    localStorage.setItem(OWNER_KEY, user);
    navigator.serviceWorker.addEventListener("message", (event) => {
      if ((event.data || {}).type === "kongchuo-wiped") render();
    });
    guardLogout();
    await navigator.serviceWorker.register("/sw.js", { scope: "/" });
    document.querySelectorAll("[data-offline-keep]").forEach((node) => {
      const urls = node.dataset.offlineKeep.split(" ").filter(Boolean);
      navigator.serviceWorker.ready.then((registration) => registration.active.postMessage({ type: "kongchuo-keep", urls }));
    });
    window.addEventListener("online", sync);
    window.addEventListener("offline", render);
    await sync();
  }

  window.kongchuoOffline = { queue, render, sync, user };
  start();
})();
