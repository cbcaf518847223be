// The playground chat: the live stream (server-sent events), the member picker, mutes.
// Items arrive rendered by the server; each has a stable id, so one already shown is dropped.
(function () {
  "use strict";

  var root = document.getElementById("pg-chat");
  if (!root) return;
  var feed = document.getElementById("pg-feed");
  var mutedUntil = {};  // member id -> time (ms) their mute ends
  var allMuted = root.dataset.allMuted === "1";

  function picker() { return document.getElementById("pg-member"); }

  function readMutes() {
    var select = picker();
    if (!select) return;
    Array.prototype.forEach.call(select.options, function (option) {
      if (option.dataset.mutedS) {
        mutedUntil[option.value] = Date.now() + Number(option.dataset.mutedS) * 1000;
      }
    });
  }

  function nearBottom() {
    return feed.scrollHeight - feed.scrollTop - feed.clientHeight < 120;
  }

  function scrollToEnd() { feed.scrollTop = feed.scrollHeight; }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (all, key) {
      return key in values ? values[key] : all;
    });
  }

  function updateCompose() {
    var form = document.getElementById("pg-compose");
    var select = picker();
    if (!form || !select) return;
    var note = document.getElementById("pg-muted-note");
    var option = select.options[select.selectedIndex];
    var left = option ? (mutedUntil[option.value] || 0) - Date.now() : 0;
    var message = "";
    if (allMuted) {
      message = root.dataset.allMutedText;
    } else if (left > 0) {
      message = fill(root.dataset.mutedText,
                     { name: option.textContent.trim(), minutes: Math.ceil(left / 60000) });
    }
    var blocked = message !== "" || !option || !option.value;
    document.getElementById("pg-text").disabled = blocked;
    document.getElementById("pg-send").disabled = blocked;
    form.dataset.muted = message ? "1" : "0";
    note.hidden = !message;
    note.textContent = message;
  }

  function addMember(id, name) {
    var select = picker();
    if (!select || !id) return;
    if (select.querySelector('option[value="' + CSS.escape(id) + '"]')) return;
    var placeholder = select.querySelector('option[value=""]');
    if (placeholder) placeholder.remove();
    var option = document.createElement("option");
    option.value = id;
    option.textContent = name || id;
    select.insertBefore(option, select.firstChild);
    if (select.options.length === 1) select.value = id;
  }

  function removeMember(id) {
    var select = picker();
    var option = select && select.querySelector('option[value="' + CSS.escape(id) + '"]');
    if (option) option.remove();
  }

  function apply(element) {
    var data = element.dataset;
    if (data.deletes) {
      var target = feed.querySelector('[data-message-id="' + CSS.escape(data.deletes) + '"]');
      if (target) target.classList.add("pg-deleted");
    }
    if (data.effect === "join") addMember(data.member, data.name);
    if (data.effect === "leave") removeMember(data.member);
    if (data.effect === "mute") mutedUntil[data.member] = Date.now() + Number(data.seconds) * 1000;
    if (data.effect === "unmute") delete mutedUntil[data.member];
    if (data.effect === "mute_all") allMuted = true;
    if (data.effect === "unmute_all") allMuted = false;
    updateCompose();
  }

  function receive(event) {
    var holder = document.createElement("template");
    holder.innerHTML = event.data.trim();
    var element = holder.content.firstElementChild;
    if (!element || (element.id && document.getElementById(element.id))) return;
    var stick = nearBottom();
    var empty = feed.querySelector(".pg-empty");
    if (empty) empty.remove();
    feed.appendChild(element);
    apply(element);
    if (stick) scrollToEnd();
    document.body.dispatchEvent(new CustomEvent("qy:feed"));
  }

  function setLive(state) {
    var badge = document.getElementById("pg-live");
    if (!badge) return;
    badge.dataset.state = state;
    badge.textContent = state === "live" ? badge.dataset.live : badge.dataset.connecting;
  }

  function connect() {
    var source = new EventSource(root.dataset.stream);
    source.addEventListener("item", receive);
    source.addEventListener("open", function () { setLive("live"); });
    source.addEventListener("error", function () { setLive("connecting"); });
  }

  // Refusals (a muted member, an empty message) come back as 422 with the reason: show it.
  document.body.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    if (root.contains(event.detail.elt) && (status === 422 || status === 403)) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  document.body.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (!event.detail.successful || !form || !form.id) return;
    var input = form.id === "pg-compose" ? document.getElementById("pg-text")
      : form.id === "pg-add-member" ? document.getElementById("pg-new-name") : null;
    if (!input) return;
    input.value = "";
    form.querySelectorAll(".field-error").forEach(function (e) { e.remove(); });
    input.removeAttribute("aria-invalid");
    if (form.id === "pg-compose") input.focus();
  });

  document.body.addEventListener("htmx:afterSwap", function () { readMutes(); updateCompose(); });
  root.addEventListener("change", function (event) {
    if (event.target.id === "pg-member") updateCompose();
  });

  // Keep the newest message in view when the feed changes size (a phone's keyboard opens).
  var stuck = true;
  feed.addEventListener("scroll", function () { stuck = nearBottom(); });
  if (window.ResizeObserver) {
    new ResizeObserver(function () { if (stuck) scrollToEnd(); }).observe(feed);
  }

  // On a phone the conversation box fills the window: bring it, composer included, into view.
  function showConversation() {
    var box = feed.parentElement;
    var bar = document.querySelector(".topbar");
    if (window.innerWidth < 960 && box) {
      window.scrollTo(0, box.getBoundingClientRect().top + window.scrollY
                         - (bar ? bar.offsetHeight : 0) - 8);
    }
  }

  // Replying to a message and liking one: the member chosen in the picker acts.
  var replyTo = document.getElementById("pg-reply-to");
  var replying = document.getElementById("pg-replying");

  function setReply(id, text) {
    if (!replyTo) return;
    replyTo.value = id || "";
    replying.hidden = !id;
    replying.querySelector(".pg-replying-text").textContent = text || "";
    if (id) document.getElementById("pg-text").focus();
  }

  function like(messageId) {
    var select = picker();
    var form = document.getElementById("pg-compose");
    if (!select || !select.value || !form) return;
    var body = new FormData();
    body.append("csrf_token", form.querySelector('[name="csrf_token"]').value);
    body.append("member", select.value);
    body.append("message_id", messageId);
    fetch(root.dataset.reactUrl, { method: "POST", body: body, credentials: "same-origin",
                                   headers: { "HX-Request": "true" } });
  }

  feed.addEventListener("click", function (event) {
    var button = event.target.closest("button");
    var item = button && button.closest(".pg-msg");
    if (!item || !root.dataset.canAct) return;
    if (button.dataset.reply) {
      var author = item.querySelector(".pg-author").textContent;
      var text = item.querySelector(".pg-text").textContent;
      setReply(button.dataset.reply, (author + ": " + text).slice(0, 60));
    } else if (button.dataset.like) {
      like(button.dataset.like);
    }
  });
  var cancel = document.getElementById("pg-reply-cancel");
  if (cancel) cancel.addEventListener("click", function () { setReply(""); });
  document.body.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.successful && event.detail.elt && event.detail.elt.id === "pg-compose") {
      setReply("");
    }
  });

  // The role form acts on the member chosen in the picker and shows their role.
  function syncRole() {
    var select = picker();
    var member = document.getElementById("pg-role-member");
    var role = document.getElementById("pg-role-select");
    var option = select && select.options[select.selectedIndex];
    if (!member || !role || !option) return;
    member.value = option.value;
    role.value = option.dataset.role === "admin" ? "admin" : "member";
  }
  root.addEventListener("change", function (event) {
    if (event.target.id === "pg-member") syncRole();
  });
  document.body.addEventListener("htmx:afterSwap", syncRole);

  syncRole();
  readMutes();
  updateCompose();
  scrollToEnd();
  showConversation();
  setInterval(updateCompose, 5000);
  connect();
})();
