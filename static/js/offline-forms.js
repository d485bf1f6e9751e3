/* The roll (templates/attendance/roll.html) and the home-visit form
 * (templates/returns/case_action.html) offline (issue 17). Online the forms post as usual; with
 * no connection the submission goes to the outbox (offline.js) with a client UUID, the time it
 * was taken and the version the page showed, and is sent when the connection returns.
 */
(function () {
  "use strict";
  const offline = window.kongchuoOffline;
  if (!offline) return; // no offline layer in this browser: the forms post as usual

  function saved(form, text) {
    let note = form.querySelector("[data-testid=offline-saved]");
    if (!note) {
      note = document.createElement("p");
      note.className = "notice";
      note.setAttribute("data-testid", "offline-saved");
      note.setAttribute("role", "status");
      form.prepend(note);
    }
    note.textContent = text;
    note.scrollIntoView({ block: "nearest" });
  }

  const roll = document.querySelector("form[data-offline-roll]");
  if (roll) {
    roll.addEventListener("submit", async (event) => {
      if (navigator.onLine) return;
      event.preventDefault();
      const marks = [];
      const mine = [];
      roll.querySelectorAll("[data-testid=roll-row]").forEach((row) => {
        const checked = row.querySelector("input[type=radio]:checked");
        const note = row.querySelector("textarea, input[type=text]");
        if (!checked || checked.value === "present") return;
        const label = checked.closest("label").textContent.trim();
        marks.push({ student: Number(row.dataset.student), status: checked.value, note: note ? note.value : "" });
        mine.push(`${row.dataset.name}：${label}${note && note.value ? `（${note.value}）` : ""}`);
      });
      const data = roll.dataset;
      await offline.queue({
        kind: "roll",
        url: "/api/v1/attendance/offline/",
        label: data.label,
        baseName: "base",
        fields: { klass: Number(data.klass), date: data.date, marks, taken_at: new Date().toISOString(), base: data.base || null },
        mine: mine.length ? mine : ["全部出勤"],
      });
      saved(roll, `没有网络：${data.label}已保存在手机上，恢复网络后自动上传（见页面顶部“待上传”）。`);
    });
  }

  const visit = document.querySelector("form[data-offline-visit]");
  if (visit) {
    visit.addEventListener("submit", async (event) => {
      if (navigator.onLine) return;
      event.preventDefault();
      const form = new FormData(visit);
      const fields = { base_version: Number(visit.dataset.version) };
      const files = [];
      for (const [key, value] of form.entries()) {
        if (key === "csrfmiddlewaretoken") continue;
        if (value instanceof Blob) {
          if (value.size) files.push({ blob: value, name: value.name || "photo.jpg" });
          continue;
        }
        if (key in fields) fields[key] = [].concat(fields[key], value);
        else fields[key] = value;
      }
      const method = visit.querySelector("input[name=method]:checked");
      await offline.queue({
        kind: "visit",
        url: `/api/v1/return-cases/${visit.dataset.case}/offline-visit/`,
        label: visit.dataset.label,
        baseName: "base_version",
        fields,
        files,
        mine: [
          `日期：${fields.date || ""} · ${method ? method.closest("label").textContent.trim() : ""}`,
          `情况：${fields.result || ""}`,
          `照片或PDF：${files.length}个`,
        ],
      });
      saved(visit, `没有网络：${visit.dataset.label}已保存在手机上（含${files.length}个附件），恢复网络后自动上传。`);
    });
  }
})();
