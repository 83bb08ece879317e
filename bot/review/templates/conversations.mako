<%inherit file="base.mako"/>
<%def name="title()">Konuşmalar</%def>
<%
  def fmt_time(value):
      import zoneinfo
      return value.astimezone(zoneinfo.ZoneInfo("Europe/Istanbul")).strftime("%d.%m.%Y %H:%M")
%>
<h1>Konuşmalar</h1>
<form method="get" action="/conversations" class="filters" id="filters">
  <label>Başlangıç <input type="date" name="from" value="${query.get('from', '')}"></label>
  <label>Bitiş <input type="date" name="to" value="${query.get('to', '')}"></label>
  <label>Kanal
    <select name="channel">
      <option value="">Tümü</option>
      % for key, label in channel_labels.items():
      <option value="${key}" ${'selected' if query.get('channel') == key else ''}>${label}</option>
      % endfor
    </select>
  </label>
  <label>Niyet / SSS konusu
    <select name="topic">
      <option value="">Tümü</option>
      % for topic in topics:
      <option value="${topic}" ${'selected' if query.get('topic') == topic else ''}>${topic}</option>
      % endfor
    </select>
  </label>
  <label>Etiket
    <select name="tag">
      <option value="">Tümü</option>
      % for tag in tags:
      <option value="${tag}" ${'selected' if query.get('tag') == tag else ''}>${tag}</option>
      % endfor
    </select>
  </label>
  <label>İnceleme
    <select name="reviewed">
      <option value="">Tümü</option>
      <option value="no" ${'selected' if query.get('reviewed') == 'no' else ''}>İncelenmedi</option>
      <option value="yes" ${'selected' if query.get('reviewed') == 'yes' else ''}>İncelendi</option>
    </select>
  </label>
  <label class="check"><input type="checkbox" name="misunderstood" value="1" ${'checked' if query.get('misunderstood') == '1' else ''}> Anlaşılamadı / düşük güven (&lt; ${"%.2f" % threshold})</label>
  <label class="check"><input type="checkbox" name="human" value="1" ${'checked' if query.get('human') == '1' else ''}> Yetkili istedi</label>
  <label>Mesajlarda ara <input type="search" name="q" value="${query.get('q', '')}"></label>
  <button type="submit">Filtrele</button>
  <a href="/conversations">Temizle</a>
</form>
<p class="exports">Bu listeyi indir:
  <a href="/export/conversations.json?${export_query}">JSON</a> ·
  <a href="/export/conversations.csv?${export_query}">CSV</a></p>
% if not rows:
<p class="empty">Bu filtrelere uyan konuşma yok.</p>
% else:
<table class="list" id="conversation-list">
  <thead><tr><th>Kanal</th><th>Başlangıç</th><th>Kullanıcı mesajı</th><th>En düşük güven</th><th>Durum</th><th></th></tr></thead>
  <tbody>
  % for row in rows:
  <tr data-id="${row.id}">
    <td>${channel_labels.get(row.channel, row.channel)}</td>
    <td>${fmt_time(row.started_at)}</td>
    <td>${row.turns}</td>
    <td>${"—" if row.min_confidence is None else "%.2f" % row.min_confidence}</td>
    <td class="flags">
      % if row.fell_back or (row.min_confidence is not None and row.min_confidence < threshold):
      <span class="flag bad">anlaşılamadı</span>
      % endif
      % if row.asked_human:
      <span class="flag human">yetkili istedi</span>
      % endif
      % if row.linked:
      <span class="flag">bağlı hesap</span>
      % endif
      % if row.reviewed:
      <span class="flag ok">incelendi</span>
      % endif
      % for tag in row.tags:
      <span class="flag tag">${tag}</span>
      % endfor
    </td>
    <td><a href="/conversations/${row.id}">Aç</a></td>
  </tr>
  % endfor
  </tbody>
</table>
% endif
<p class="pages">
  % if page > 1:
  <a href="${page_url(page - 1)}">‹ Önceki</a>
  % endif
  Sayfa ${page}
  % if more:
  <a href="${page_url(page + 1)}">Sonraki ›</a>
  % endif
</p>
