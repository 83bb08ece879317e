/* Draws the dashboard charts from /api/dashboard with the vendored Chart.js. */
(function () {
  "use strict";
  var status = document.getElementById("dashboard-status");
  function chart(id, type, labels, datasets, options) {
    return new Chart(document.getElementById(id), {
      type: type,
      data: { labels: labels, datasets: datasets },
      options: Object.assign({ animation: false, responsive: true, maintainAspectRatio: false },
                             options || {})
    });
  }
  function short(text) { return text.length > 45 ? text.slice(0, 44) + "…" : text; }
  fetch("/api/dashboard", { credentials: "same-origin" })
    .then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.json();
    })
    .then(function (data) {
      chart("chart-per-day", "bar", data.days,
            [{ label: "Konuşma", data: data.conversations_per_day, backgroundColor: "#2b6cb0" }],
            { scales: { y: { ticks: { precision: 0 } } } });
      chart("chart-fallback", "line", data.days,
            [{ label: "Anlaşılamama oranı", data: data.fallback_rate, borderColor: "#c53030" }],
            { scales: { y: { min: 0, max: 1 } } });
      chart("chart-topics", "bar", data.top_topics.map(function (t) { return short(t.title); }),
            [{ label: "Mesaj", data: data.top_topics.map(function (t) { return t.count; }),
               backgroundColor: "#2f855a" }],
            { indexAxis: "y", scales: { x: { ticks: { precision: 0 } } } });
      chart("chart-linked", "doughnut", ["Bağlı hesap", "Anonim"],
            [{ data: [data.linked.linked, data.linked.anonymous],
               backgroundColor: ["#2b6cb0", "#a0aec0"] }]);
      chart("chart-channels", "pie", data.channels.map(function (c) { return c.label; }),
            [{ data: data.channels.map(function (c) { return c.count; }),
               backgroundColor: ["#2b6cb0", "#2f855a", "#d69e2e", "#c53030", "#718096"] }]);
      status.textContent = "Güncel.";
      document.body.dataset.chartsReady = "1";
    })
    .catch(function () { status.textContent = "Pano verileri yüklenemedi; sayfayı yenileyin."; });
}());
