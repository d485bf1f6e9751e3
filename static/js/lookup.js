/* Suggestions for the lookup inputs of forms (accounts/lookups.py, LookupInput).
 *
 * Each input carries data-lookup-url, a JSON endpoint answering {"results": [{"value": code,
 * "label": full name}]}, and a <datalist> of its own. As one types a name, the datalist is
 * filled with the matches a moment after the last key; choosing one (tap, or the arrow keys
 * and Enter) puts its code in the box and its full name beside it. The form submits the code,
 * so without this file one simply types the code.
 *
 * Each option's value is "full name · code": Safari on iPhone matches what is typed against
 * option values only, never labels, so a bare code would never match a typed name there.
 */
(function () {
  "use strict";

  var DELAY = 250; // ms after the last key before asking the server

  function setUp(input) {
    var list = document.getElementById(input.getAttribute("list"));
    var nameBox = document.getElementById(input.getAttribute("data-lookup-name"));
    var url = input.getAttribute("data-lookup-url");
    if (!list || !url) {
      return;
    }
    var offered = Object.create(null); // option value -> result
    var byCode = Object.create(null); // code -> result
    var timer = null;
    var pending = null;
    var asked = "";

    function say(text) {
      if (nameBox) {
        nameBox.textContent = text;
      }
    }

    function fill(results) {
      offered = Object.create(null);
      byCode = Object.create(null);
      var fragment = document.createDocumentFragment();
      results.forEach(function (result) {
        var option = document.createElement("option");
        option.value = result.label + " · " + result.value;
        fragment.appendChild(option);
        offered[option.value] = result;
        byCode[result.value] = result;
      });
      list.textContent = "";
      list.appendChild(fragment);
    }

    function search(query) {
      if (pending) {
        pending.abort();
      }
      pending = new AbortController();
      asked = query;
      var address = new URL(url, window.location.href);
      address.searchParams.set("q", query);
      fetch(address, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
        signal: pending.signal,
      })
        .then(function (response) {
          var type = response.headers.get("Content-Type") || "";
          if (type.indexOf("application/json") === -1) {
            throw new Error("not json"); // the login page after the session ran out
          }
          return response.json().then(function (body) {
            return { ok: response.ok, body: body };
          });
        })
        .then(function (answer) {
          if (input.value.trim() !== query) {
            return; // typed on meanwhile: a newer search follows
          }
          if (!answer.ok) {
            fill([]);
            say(answer.body.detail || "搜索失败，可直接填写代码。");
            return;
          }
          var results = answer.body.results || [];
          fill(results);
          if (byCode[query]) {
            say(byCode[query].label); // a code typed in full
          } else {
            say(results.length ? "" : "没有找到，请换个关键词，或直接填写代码。");
          }
        })
        .catch(function (error) {
          if (error.name !== "AbortError") {
            say("暂时无法搜索，可直接填写代码。");
          }
        });
    }

    function changed(event) {
      if (event && event.isComposing) {
        return; // pinyin still being composed: wait for the characters
      }
      var query = input.value.trim();
      window.clearTimeout(timer);
      var chosen = offered[query];
      if (chosen) {
        input.value = chosen.value; // the code goes in the box and is what the form sends
        asked = chosen.value;
        say(chosen.label);
        return;
      }
      if (byCode[query]) {
        say(byCode[query].label);
        return;
      }
      say("");
      if (!query || query === asked) {
        return;
      }
      timer = window.setTimeout(function () {
        search(query);
      }, DELAY);
    }

    input.addEventListener("input", changed);
    input.addEventListener("compositionend", changed);
  }

  function setUpAll() {
    var inputs = document.querySelectorAll("input[data-lookup-url]");
    for (var i = 0; i < inputs.length; i += 1) {
      setUp(inputs[i]);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUpAll);
  } else {
    setUpAll();
  }
})();
