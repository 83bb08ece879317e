<%inherit file="base.mako"/>
<%def name="title()">Pano</%def>
<h1>Pano (son ${days} gün)</h1>
<div class="charts">
  <figure><figcaption>Günlük konuşma sayısı</figcaption><div class="chart-box"><canvas id="chart-per-day"></canvas></div></figure>
  <figure><figcaption>Anlaşılamama oranı (günlük)</figcaption><div class="chart-box"><canvas id="chart-fallback"></canvas></div></figure>
  <figure><figcaption>En çok sorulan SSS konuları</figcaption><div class="chart-box"><canvas id="chart-topics"></canvas></div></figure>
  <figure><figcaption>Bağlı hesap / anonim</figcaption><div class="chart-box"><canvas id="chart-linked"></canvas></div></figure>
  <figure><figcaption>Kanallara göre</figcaption><div class="chart-box"><canvas id="chart-channels"></canvas></div></figure>
</div>
<p id="dashboard-status" class="meta">Yükleniyor…</p>
<script src="/static/vendor/chart.umd.min.js"></script>
<script src="/static/dashboard.js"></script>
