<%inherit file="base.mako"/>
<%def name="title()">Pano</%def>
<h1>Pano (son ${days} gün)</h1>
<div class="charts">
  <figure><figcaption>Günlük konuşma sayısı</figcaption><canvas id="chart-per-day"></canvas></figure>
  <figure><figcaption>Anlaşılamama oranı (günlük)</figcaption><canvas id="chart-fallback"></canvas></figure>
  <figure><figcaption>En çok sorulan SSS konuları</figcaption><canvas id="chart-topics"></canvas></figure>
  <figure><figcaption>Bağlı hesap / anonim</figcaption><canvas id="chart-linked"></canvas></figure>
  <figure><figcaption>Kanallara göre</figcaption><canvas id="chart-channels"></canvas></figure>
</div>
<p id="dashboard-status" class="meta">Yükleniyor…</p>
<script src="/static/vendor/chart.umd.min.js"></script>
<script src="/static/dashboard.js"></script>
