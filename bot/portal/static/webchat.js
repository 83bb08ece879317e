/*
 * Staj Asistanı web chat widget (vanilla JS, socket.io-client 4 served by the portal).
 *
 * Embedding: <div id="staj-asistani" data-socket-url="http://127.0.0.1:5005"
 *                 data-token-url="/api/chat-token"></div>
 * then socket.io.min.js and this file. On every (re)connect the widget asks the portal for a
 * fresh chat token and sends it in socket.io's `auth` payload; the assistant derives who the
 * student is from that token alone. Every text (the student's and the assistant's) is shown
 * with textContent, never as HTML.
 */
(function () {
  "use strict";

  // The assistant's socket.io server closes connections whose packets exceed 100 kB.
  var MAX_MESSAGE_BYTES = 90000;
  var mount = document.getElementById("staj-asistani");
  if (!mount || typeof io !== "function") {
    return;
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined) {
      node.textContent = text;
    }
    return node;
  }

  var launcher = element("button", "sa-launcher", "Staj Asistanı");
  launcher.type = "button";
  launcher.setAttribute("aria-expanded", "false");
  launcher.setAttribute("aria-controls", "sa-panel");

  var panel = element("section", "sa-panel");
  panel.id = "sa-panel";
  panel.hidden = true;
  panel.setAttribute("aria-labelledby", "sa-title");

  var header = element("header", "sa-header");
  var title = element("h2", "sa-title", "Staj Asistanı");
  title.id = "sa-title";
  var close = element("button", "sa-close", "Kapat");
  close.type = "button";
  close.setAttribute("aria-label", "Sohbeti kapat");
  header.appendChild(title);
  header.appendChild(close);

  var status = element("p", "sa-status", "Bağlanıyor…");
  status.setAttribute("role", "status");

  var log = element("ol", "sa-log");
  log.setAttribute("role", "log");
  log.setAttribute("aria-live", "polite");
  log.setAttribute("aria-label", "Mesajlar");
  log.tabIndex = 0;

  var form = element("form", "sa-form");
  var label = element("label", "sa-label", "Mesajın");
  label.htmlFor = "sa-input";
  var input = element("textarea", "sa-input");
  input.id = "sa-input";
  input.rows = 2;
  input.setAttribute("placeholder", "Örneğin: Staj süresi kaç gün?");
  var send = element("button", "sa-send", "Gönder");
  send.type = "submit";
  form.appendChild(label);
  form.appendChild(input);
  form.appendChild(send);

  panel.appendChild(header);
  panel.appendChild(status);
  panel.appendChild(log);
  panel.appendChild(form);
  mount.appendChild(launcher);
  mount.appendChild(panel);

  function setOpen(open) {
    panel.hidden = !open;
    launcher.hidden = open;
    launcher.setAttribute("aria-expanded", String(open));
    (open ? input : launcher).focus();
  }

  function scrollToEnd() {
    log.scrollTop = log.scrollHeight;
  }

  function addMessage(who, text) {
    var item = element("li", "sa-msg sa-" + who);
    item.appendChild(element("span", "sa-visually-hidden", who === "user" ? "Sen: " : "Asistan: "));
    item.appendChild(element("p", "sa-text", text));
    log.appendChild(item);
    scrollToEnd();
    return item;
  }

  var studentName = "";  // from the portal, for the status line only (never for identity)
  var socket = io(mount.dataset.socketUrl, {
    autoConnect: false,
    // A WebSocket first: one connection, held by one Rasa process, so the chat works however
    // many Sanic workers share the port. Long-polling only where a WebSocket cannot open.
    transports: ["websocket", "polling"],
    tryAllTransports: true,
    // A fresh portal token on every (re)connect; no token means an anonymous visitor.
    auth: function (callback) {
      fetch(mount.dataset.tokenUrl, { credentials: "same-origin", cache: "no-store" })
        .then(function (reply) { return reply.json(); })
        .then(function (body) {
          studentName = body.name || "";
          callback(body.token ? { token: body.token } : {});
        })
        .catch(function () { callback({}); });
    },
  });

  function sendMessage(text, shown) {
    if (new Blob([text]).size > MAX_MESSAGE_BYTES) {
      status.textContent = "Mesajın gönderilemeyecek kadar uzun. Lütfen kısaltıp tekrar gönder.";
      return false;
    }
    if (shown.trim()) {
      addMessage("user", shown);
    }
    // Buffered by socket.io while disconnected and sent on reconnect: nothing is lost.
    socket.emit("user_uttered", { message: text, metadata: { page: location.pathname } });
    return true;
  }

  function addButtons(item, buttons) {
    var group = element("div", "sa-buttons");
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", "Seçenekler");
    buttons.forEach(function (button) {
      var choice = element("button", "sa-choice", button.title);
      choice.type = "button";
      choice.addEventListener("click", function () {
        if (sendMessage(button.payload, button.title)) {
          group.querySelectorAll("button").forEach(function (other) { other.disabled = true; });
          input.focus();
        }
      });
      group.appendChild(choice);
    });
    item.appendChild(group);
  }

  socket.on("connect", function () {
    status.textContent = studentName
      ? studentName + " olarak bağlandın. Sorunu yazabilirsin."
      : "Giriş yapmadığın için yalnızca genel soruları yanıtlayabilirim.";
  });
  socket.on("disconnect", function () {
    status.textContent = "Bağlantı koptu, yeniden bağlanıyor…";
  });
  socket.on("connect_error", function (error) {
    // The assistant refuses an expired or forged token with a Turkish explanation.
    status.textContent = socket.active
      ? "Asistana şu an ulaşılamıyor, yeniden deniyorum…"
      : error.message;
  });
  socket.on("bot_uttered", function (message) {
    var item = addMessage("bot", message && message.text ? String(message.text) : "");
    if (message && Array.isArray(message.buttons) && message.buttons.length) {
      addButtons(item, message.buttons);
      scrollToEnd();
    }
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (sendMessage(input.value, input.value)) {
      input.value = "";
    }
    input.focus();
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  launcher.addEventListener("click", function () {
    if (!socket.connected && !socket.active) {
      socket.connect();
    }
    setOpen(true);
  });
  close.addEventListener("click", function () { setOpen(false); });
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      setOpen(false);
    }
  });
})();
